import ArgumentParser
import Foundation
import STSBatch
import STSCrypto
import STSMeter
import STSMeterSimulator
import STSTariff
import STSTokenFormat
import STSVending

/// `stsvend sim …`: the meter simulator, a prepaid meter on a desk kept in a state file.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "The meter simulator: enter tokens, insert cards, draw credit down, watch the relay.",
        discussion: """
        The meter lives in a state file (--state, mode 0600: it holds the decoder key), written \
        atomically after every change and refused if corrupted. STSVEND_NOW (seconds since 1970) \
        overrides the clock for scripted tests. The simulator keeps its own copies of its keys, as \
        a real meter does. The old spellings 'stsvend meter init|enter|status|run|keypad|tamper|insert-card' still work.
        """,
        subcommands: [MeterInitCommand.self, MeterEnterCommand.self, MeterStatusCommand.self, MeterRunCommand.self,
                      MeterKeypadCommand.self, MeterTamperCommand.self, MeterInsertCardCommand.self,
                      SimDLMSKeysCommand.self, SimServeCommand.self, SimFleetCommand.self]
    )
}

/// `stsvend meter …`: meters at the station (the simulator's commands answer here too, unlisted, for old scripts).
struct MeterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meter",
        abstract: "Meters at the station: register them and assign their tariffs (the simulator is 'stsvend sim').",
        subcommands: [MeterAddCommand.self, MeterTariffCommand.self, MeterBlockCommand.self, MeterUnblockCommand.self, MeterConnectCommand.self, MeterReadCommand.self, MeterSupplyCommand.self,
                      MeterDeliverCommand.self, MeterAlertsCommand.self, HeadEndBenchCommand.self,
                      SimAlias<MeterInitCommand>.self, SimAlias<MeterEnterCommand>.self, SimAlias<MeterStatusCommand>.self,
                      SimAlias<MeterRunCommand>.self, SimAlias<MeterKeypadCommand>.self, SimAlias<MeterTamperCommand>.self,
                      SimAlias<MeterInsertCardCommand>.self]
    )
}

/// A simulator command under its old name (`meter init` for `sim init`): same options, not listed.
struct SimAlias<Command: ParsableCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Command.configuration.commandName, abstract: "Same as 'stsvend sim \(Command.configuration.commandName ?? "")'.",
                             shouldDisplay: false)
    }
    @OptionGroup var command: Command
    mutating func run() throws { try command.run() }
}

/// The meter's clock: wall time, or STSVEND_NOW for scripted tests.
func meterClock() throws -> Int64 {
    try ClockOverride.value() ?? Int64(Date().timeIntervalSince1970)
}

struct StateOption: ParsableArguments {
    @Option(help: "The meter state file.") var state: String
}

/// JSON and text views of a meter.
enum MeterView {
    static func number(_ units: Int128, scale: Int) -> JSON { .number(DecimalQuantity.format(units, scale: scale)) }

    /// The meter's fields; `at` is the time whose time-of-use period is shown (default: the clock).
    static func write(_ m: SimulatedMeter, to w: inout JSONLineWriter, events: Bool, at time: Int64? = nil) {
        let s = m.state
        w.object("credit") { c in
            for k in CreditKind.allCases { c.raw(k.description, number(s.registers[k], scale: k.isCurrency ? 5 : 1)) }
        }
        w.field("relay", m.relay.rawValue)
        w.field("meter_type", m.isCurrencyMeter ? "currency" : "kwh")
        if let table = m.timeOfUse {
            let now = time ?? clockForDisplay()
            w.object("tou") { t in
                t.field("period", table.period(at: now).name)
                t.raw("price_per_kwh", number(Int128(table.price(at: now, tariffRate: s.registers.tariffRate)), scale: 5))
                t.field("day", TimeOfUseTable.dayType(at: now).rawValue)
                t.field("hour", TimeOfUseTable.hour(at: now))
            }
            w.raw("warning_currency", .array(m.warningCurrency.map { number($0, scale: 5) }))
        }
        w.object("registers") { r in
            if let v = s.registers.maximumPowerLimit { r.field("max_power_limit_w", v) }
            if let v = s.registers.phaseUnbalanceLimit { r.field("phase_unbalance_limit_w", v) }
            if let v = s.registers.tariffRate { r.field("tariff_rate", Int(v)) }
            if let v = s.registers.waterMeterFactor { r.field("water_meter_factor", Int(v)) }
            r.field("tamper", s.registers.tamper)
        }
        w.object("key") { k in
            k.field("krn", Int(s.key.revision)); k.field("kt", Int(s.key.keyType.rawValue)); k.field("ken", Int(s.key.expiry.value))
            k.field("sgc", s.key.supplyGroup.description); k.field("ti", Int(s.key.tariffIndex))
            k.field("base_date", s.key.baseDate.year); k.field("ea", s.key.encryption.rawValue)
        }
        w.field("meter", s.pan.description)
        w.field("tid_memory", s.tidMemory.tids.count)
        if let last = s.tidMemory.tids.last { w.field("last_tid", UInt64(last)) }
        if let p = s.pendingKeyChange { w.field("pending_key_change_tokens", p.blocks.count) }
        if s.lockout.lockedUntil > clockForDisplay() { w.field("locked_until", CivilTime.formatMinutes(s.lockout.lockedUntil / 60)) }
        if events {
            w.raw("events", .array(m.events.map { e in
                var o = JSONObject()
                o.pairs = [("time", .string(CivilTime.formatMinutes(e.time / 60))), ("kind", .string(e.kind)), ("detail", .string(e.detail))]
                return .object(o)
            }))
        }
    }

    /// The clock for display only: a malformed STSVEND_NOW falls back to the wall clock.
    static func clockForDisplay() -> Int64 { (try? meterClock()) ?? Int64(Date().timeIntervalSince1970) }

    static func text(_ m: SimulatedMeter, events: Bool, at time: Int64? = nil) -> [String] {
        let s = m.state
        // A currency meter leads with the money it draws from; a kWh meter with kWh.
        let main: CreditKind = m.isCurrencyMeter ? .electricityCurrency : .electricity
        func amount(_ k: CreditKind) -> String { DecimalQuantity.format(s.registers[k], scale: k.isCurrency ? 5 : 1) }
        let first: String = m.isCurrencyMeter ? "\(amount(main)) (electricity-currency)" : "\(amount(main)) kWh"
        let others: [String] = CreditKind.allCases.filter { $0 != main && s.registers[$0] != 0 }.map { ", \($0) \(amount($0))" }
        var lines = [
            "Meter      \(s.pan)   KRN \(s.key.revision) KT \(s.key.keyType.rawValue) KEN \(s.key.expiry) SGC \(s.key.supplyGroup) TI \(s.key.tariffIndex) base date \(s.key.baseDate) EA\(s.key.encryption)",
            "Credit     " + first + others.joined(),
            "Relay      \(m.relay.rawValue)" + (s.registers.tamper ? "   TAMPER" : ""),
            "TIDs       \(s.tidMemory.tids.count) of \(s.tidMemory.depth) remembered" + (s.tidMemory.tids.last.map { ", newest \($0)" } ?? ""),
        ]
        if let table = m.timeOfUse {
            let now = time ?? clockForDisplay()
            let price = TimeOfUseTable.formatMoney(Int128(table.price(at: now, tariffRate: s.registers.tariffRate)))
            lines.append("Tariff     time of use: \(table.period(at: now).name) \(price)/kWh now (\(TimeOfUseTable.dayType(at: now).rawValue), hour \(TimeOfUseTable.hour(at: now)) UTC)")
        }
        if let v = s.registers.maximumPowerLimit { lines.append("Power lim  \(v) W") }
        if events && !m.events.isEmpty {
            lines.append("Events")
            for e in m.events.suffix(20) { lines.append("  \(CivilTime.formatMinutes(e.time / 60))  \(e.kind.padding(toLength: 10, withPad: " ", startingAt: 0)) \(e.detail)") }
        }
        return lines
    }

    static func json(_ body: (inout JSONLineWriter) -> Void) -> String {
        var w = JSONLineWriter()
        w.begin()
        body(&w)
        w.end()
        return String(decoding: w.bytes.dropLast(), as: UTF8.self)
    }
}

struct MeterInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a meter state file with its installed key (refuses to overwrite).")
    @OptionGroup var stateOption: StateOption
    @OptionGroup var meter: MeterOptions
    @OptionGroup var key: KeyOptions
    @Option(name: .customLong("tid-depth"), help: "TIDs the meter remembers.") var tidDepth = 50
    @Option(name: .customLong("key-change-window"), help: "Seconds to enter all tokens of a key-change set.") var window: Int64 = 600
    @Option(name: .customLong("lockout-after"), help: "Wrong entries that start a keypad lockout.") var lockoutAfter = 3
    @Option(name: .customLong("lockout-seconds"), help: "First lockout; it doubles up to --lockout-max.") var lockoutSeconds: Int64 = 10
    @Option(name: .customLong("lockout-max"), help: "Longest lockout in seconds.") var lockoutMax: Int64 = 1280
    @Option(name: .customLong("warn-kwh"), help: "Low-credit warning thresholds in kWh, comma-separated.") var warnKWh = "10,5,1"
    @Flag(help: "A currency meter: credit in money (electricity-currency), drawn at time-of-use prices.") var currency = false
    @Option(name: .customLong("tou-file"), help: "With --currency: the time-of-use table file (Specs/meter.md); default: the built-in table.")
    var touFile: String?
    @Option(name: .customLong("warn-money"), help: "With --currency: low-credit warning thresholds in money, comma-separated (default 20.00,5.00).")
    var warnMoney: String?
    @OptionGroup var output: OutputOptions

    /// The `--warn-money` thresholds in 10⁻⁵ units, highest first.
    static func moneyThresholds(_ text: String) throws -> [Int128] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var values: [Int128] = []
        for part in parts {
            guard parts.count <= 16, let u = TimeOfUseTable.moneyUnits(part.trimmingCharacters(in: .whitespaces)), u > 0 else {
                throw ValidationError("--warn-money takes 1–16 positive amounts with at most 5 decimals, comma-separated, e.g. 20.00,5.00")
            }
            values.append(Int128(u))
        }
        return Array(Set(values)).sorted(by: >)
    }

    func run() throws {
        try runReporting {
            guard (1...10_000).contains(tidDepth), (1...1_000).contains(lockoutAfter), (1...31_536_000).contains(lockoutSeconds),
                  (lockoutSeconds...31_536_000).contains(lockoutMax), (1...31_536_000).contains(window)
            else {
                throw ValidationError("--tid-depth 1–10000, --lockout-after 1–1000, --lockout-seconds and --key-change-window 1 s to a year, --lockout-max at least --lockout-seconds")
            }
            guard currency || (touFile == nil && warnMoney == nil) else {
                throw ValidationError("--tou-file and --warn-money are for currency meters: add --currency")
            }
            let profile = try meter.profile()
            let decoderKey = try key.decoderKey(for: profile)
            // The key must suit the EA (and EA09 needs its opt-in) before a meter is created.
            _ = try TokenCipher(key: decoderKey, algorithm: profile.encryption, allowUnverified: key.allowUnverified)
            var policy = MeterPolicy()
            policy.tidMemoryDepth = tidDepth
            policy.keyChangeWindowSeconds = window
            policy.lockout = LockoutPolicy(threshold: lockoutAfter, baseSeconds: lockoutSeconds, maximumSeconds: lockoutMax)
            let state = MeterState(keyParameters: profile.keyParameters, expiry: profile.expiry,
                                   decoderKey: decoderKey, policy: policy)
            var table: TimeOfUseTable?
            if currency { table = try touFile.map { try TimeOfUseTable.load(path: $0) } ?? .defaultTable }
            var m = SimulatedMeter(state: state, timeOfUse: table)
            if currency, let warnMoney { m.warningCurrency = try Self.moneyThresholds(warnMoney) }
            m.warningTenths = try warnKWh.split(separator: ",").map { part -> Int64 in
                let u = try DecimalQuantity.units(String(part).trimmingCharacters(in: .whitespaces), scale: 1)
                guard u > 0, u < 1_000_000_000 else { throw ValidationError("--warn-kwh values must be positive") }
                return Int64(u)
            }.sorted(by: >)
            try StateFile.create(m, at: stateOption.state)
            if output.json {
                printLine(MeterView.json { w in w.field("ok", true); w.field("state", stateOption.state); MeterView.write(m, to: &w, events: false) })
            } else {
                printLine("Meter \(profile.pan) created in \(stateOption.state) (decoder key check value \(state.key.decoderKey.checkValue))"
                          + (currency ? ", a currency meter with \(m.timeOfUse?.periods.count ?? 0) time-of-use periods" : ""))
            }
        }
    }
}

struct MeterEnterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enter", abstract: "Key a token into the meter: result, display text and registers.",
        discussion: "Exit 0 whatever the meter's result (the result is in the output); 1 when the state file cannot be used.")
    @OptionGroup var stateOption: StateOption
    @Argument(help: "The 20-digit token (spaces or hyphens between groups allowed).") var token: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let now = try meterClock()
            let (outcome, m) = try StateFile.update(stateOption.state) { m in (m.enter(token, at: now), m) }
            if output.json {
                printLine(MeterView.json { w in
                    w.field("result", outcome.result.rawValue)
                    w.field("display", outcome.result.displayText)
                    w.field("accepted", outcome.result.isAccepted)
                    if outcome.keyChanged { w.field("key_changed", true) }
                    if let c = outcome.tokenClass { w.field("class", Int(c.rawValue)) }
                    MeterView.write(m, to: &w, events: false)
                })
            } else {
                printLine("Display    \(outcome.result.displayText)   (\(outcome.result.rawValue))" + (outcome.keyChanged ? "   new key installed" : ""))
                MeterView.text(m, events: false).forEach(printLine)
            }
        }
    }
}

struct MeterStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the meter's registers, key, relay and event log.")
    @OptionGroup var stateOption: StateOption
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let m = try StateFile.load(stateOption.state)
            let last = m.events.last { $0.kind == "token" }?.detail.split(separator: " ").first.map(String.init) ?? "none"
            if output.json {
                printLine(MeterView.json { w in w.field("result", last); MeterView.write(m, to: &w, events: true) })
            } else {
                MeterView.text(m, events: true).forEach(printLine)
            }
        }
    }
}

struct MeterRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Draw credit down with a load for a number of hours.",
        discussion: "Simulated time runs instantly unless --speed is given (simulated seconds per real second, e.g. 3600: an hour a second).")
    @OptionGroup var stateOption: StateOption
    @Option(name: .customLong("load-watts"), help: "The load in watts.") var loadWatts: Int64
    @Option(help: "Hours to run.") var hours: Double
    @Option(help: "Simulated seconds per real second (default: instant).") var speed: Double?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            guard (0...1_000_000_000).contains(loadWatts), hours.isFinite, hours >= 0, hours <= 24 * 366 * 10 else {
                throw ValidationError("--load-watts must be 0–1000000000 and --hours 0 to ten years")
            }
            if let speed, !(speed.isFinite && speed > 0) { throw ValidationError("--speed must be a positive number") }
            let start = try meterClock()
            let total = Int64(hours * 3600)
            let (report, m): (ConsumptionReport, SimulatedMeter)
            if let speed {
                (report, m) = try StateFile.run(stateOption.state, loadWatts: loadWatts, seconds: total, start: start, speed: speed) { elapsed in
                    if !output.json, elapsed % 3600 == 0 { FileHandle.standardError.write(Data("\r\(elapsed / 3600) h simulated".utf8)) }
                }
            } else {
                (report, m) = try StateFile.update(stateOption.state) { m in (m.run(loadWatts: loadWatts, seconds: total, start: start), m) }
            }
            if output.json {
                printLine(MeterView.json { w in
                    w.raw("consumed_kwh", MeterView.number(Int128(report.tenthsConsumed), scale: 1))
                    w.raw("hours_supplied", .number(String(Double(report.secondsSupplied) / 3600)))
                    if m.isCurrencyMeter {
                        w.raw("charged", MeterView.number(report.currencyCharged, scale: 5))
                        w.object("charged_by_period") { c in
                            for (name, units) in report.chargedByPeriod.sorted(by: { $0.key < $1.key }) { c.raw(name, MeterView.number(units, scale: 5)) }
                        }
                    }
                    w.raw("run_events", .array(report.events.map { .string("\($0.kind): \($0.detail)") }))
                    MeterView.write(m, to: &w, events: false, at: start + total)
                })
            } else {
                printLine("Supplied   \(Double(report.secondsSupplied) / 3600) h at \(loadWatts) W, \(DecimalQuantity.format(Int128(report.tenthsConsumed), scale: 1)) kWh drawn"
                          + (m.isCurrencyMeter ? ", \(TimeOfUseTable.formatMoney(report.currencyCharged)) charged" : ""))
                for (name, units) in report.chargedByPeriod.sorted(by: { $0.key < $1.key }) {
                    printLine("  \(name): \(TimeOfUseTable.formatMoney(units))")
                }
                for e in report.events { printLine("  \(e.kind): \(e.detail)") }
                MeterView.text(m, events: false, at: start + total).forEach(printLine)
            }
        }
    }
}

struct MeterKeypadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keypad", abstract: "An interactive keypad and display, like the meter's (q to quit).")
    @OptionGroup var stateOption: StateOption

    func run() throws {
        try runReporting {
            let fixed = try ClockOverride.value()
            var keypad = Keypad(statePath: stateOption.state, clock: { fixed ?? Int64(Date().timeIntervalSince1970) })
            try keypad.run()
        }
    }
}

struct MeterTamperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tamper", abstract: "Trip the meter's tamper switch: credit is refused until a clear-tamper token.")
    @OptionGroup var stateOption: StateOption
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let now = try meterClock()
            let m = try StateFile.update(stateOption.state) { m in m.detectTamper(at: now); return m }
            if output.json {
                printLine(MeterView.json { w in w.field("ok", true); MeterView.write(m, to: &w, events: false) })
            } else {
                MeterView.text(m, events: false).forEach(printLine)
            }
        }
    }
}
