#if canImport(Glibc)
import Glibc
#endif
import STSMeter
import STSTariff
import STSTokenFormat

/// An interactive keypad and display in the terminal, behaving like a meter's: digits appear as
/// typed, Enter submits, the display shows the result, credit and relay state.
///
/// Each submitted token goes through the state file exactly like `stsvend meter enter`
/// (load, decode, save atomically), so the keypad and other commands can share one meter.
public struct Keypad {
    let statePath: String
    let clock: () -> Int64
    var digits: [UInt8] = []
    var message = "Enter token"

    /// A keypad on the meter whose state file is `statePath`; `clock` gives the time (Unix seconds) tokens are entered at.
    public init(statePath: String, clock: @escaping () -> Int64) {
        self.statePath = statePath
        self.clock = clock
    }

    /// Runs until `q`, Escape or Ctrl-C; reads standard input, draws on standard output.
    public mutating func run() throws {
        var original = termios()
        let isTerminal = tcgetattr(0, &original) == 0
        if isTerminal {
            var raw = original
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            tcsetattr(0, TCSANOW, &raw)
        }
        defer {
            if isTerminal { tcsetattr(0, TCSANOW, &original) }
            output("\n")
        }
        try draw()
        var byte: UInt8 = 0
        while read(0, &byte, 1) == 1 {
            switch byte {
            case 48...57:
                if digits.count < 20 { digits.append(byte) }
            case 8, 127:
                if !digits.isEmpty { digits.removeLast() }
            case 10, 13:
                try submit()
            case 113, 81, 27, 3, 4:
                return
            default:
                break
            }
            try draw()
        }
    }

    mutating func submit() throws {
        guard !digits.isEmpty else { return }
        let text = String(decoding: digits, as: UTF8.self)
        digits.removeAll()
        do {
            let now = clock()
            let outcome = try StateFile.update(statePath) { $0.enter(text, at: now) }
            message = outcome.result.displayText + "  (" + outcome.result.rawValue + ")"
        } catch {
            message = "Error: \(error)"
        }
    }

    func draw() throws {
        let meter = try StateFile.load(statePath)
        var typed = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && i % 4 == 0 { typed += " " }
            typed.append(Character(Unicode.Scalar(d)))
        }
        // A currency meter shows money (its time-of-use period too), a kWh meter kWh.
        let credit = meter.isCurrencyMeter
            ? DecimalQuantity.format(meter.currencyCredit, scale: 5) + (meter.timeOfUse.map { " " + $0.period(at: clock()).name } ?? "")
            : DecimalQuantity.format(meter.state.registers[.electricity], scale: 1) + " kWh"
        let relay = meter.relay.isClosed ? "ON" : (meter.relay == .openOverload ? "TRIP" : "OFF")
        func row(_ s: String) -> String { "| " + s.padding(toLength: 44, withPad: " ", startingAt: 0) + " |\r\n" }
        var screen = "\u{1B}[H\u{1B}[2J"
        screen += "+" + String(repeating: "-", count: 46) + "+\r\n"
        screen += row("STS PREPAID METER   \(meter.state.pan)")
        screen += row("")
        screen += row("> " + typed + "_")
        screen += row(message)
        screen += row("")
        screen += row("CREDIT \(credit)" + (meter.state.registers.tamper ? "   TAMPER" : "") + "   RELAY \(relay)")
        screen += "+" + String(repeating: "-", count: 46) + "+\r\n"
        screen += "  0-9 digits   Enter submit   Backspace delete   q quit\r\n"
        output(screen)
    }

    func output(_ s: String) {
        var bytes = Array(s.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
        bytes.removeAll()
    }
}
