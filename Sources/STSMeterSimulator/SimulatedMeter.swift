import STSMeter
import STSTariff
import STSTokenFormat

/// The relay that connects the load.
public enum RelayState: String, Codable, Sendable {
    /// Closed: the load is supplied.
    case closed
    /// Open because the electricity credit ran out.
    case openNoCredit = "open-no-credit"
    /// Tripped because the load exceeded the maximum power limit.
    case openOverload = "open-overload"
    /// Opened by the head-end (DLMS remote disconnect); only a remote reconnect closes it.
    case openRemote = "open-remote"

    /// Whether the load is supplied (neither out of credit nor tripped).
    public var isClosed: Bool { self == .closed }
}

/// One entry of the meter's event log.
public struct MeterEvent: Codable, Equatable, Sendable {
    /// Seconds since 1970 (simulated time for consumption runs).
    public var time: Int64
    /// `token`, `relay`, `warning`, `tamper`, `key-change`.
    public var kind: String
    /// What happened, e.g. a token's result and content, or why the relay moved.
    public var detail: String

    /// An event from its time, kind and detail.
    public init(time: Int64, kind: String, detail: String) {
        self.time = time
        self.kind = kind
        self.detail = detail
    }
}

/// A meter on a desk: the decoder state plus what the simulator adds (relay, consumption,
/// low-credit warnings, an event log). This whole value is what the state file holds.
///
/// A kWh meter (``timeOfUse`` nil) draws its credit from the electricity register (tenths of a
/// kWh). A currency meter (``timeOfUse`` set) draws it from the electricity-currency register
/// (10⁻⁵ currency units) at the time-of-use price in force; its relay, warnings and "has
/// credit" follow that register, and kWh credit tokens it accepts are stored but not drawn.
public struct SimulatedMeter: Equatable, Sendable {
    /// The STS decoder state: decoder key, TID memory, registers, lockout and key-change progress.
    public var decoder: MeterDecoder
    /// The relay: closed, open for lack of credit, or tripped on overload.
    public var relay: RelayState = .closed
    /// Energy drawn but not yet a whole 0.1 kWh, in watt-seconds.
    public var wattSecondsPending: Int64 = 0
    /// Low-credit warning thresholds, in tenths of a kWh, highest first.
    public var warningTenths: [Int64] = [100, 50, 10]
    /// The thresholds already warned about (re-armed when credit rises above them).
    public var warned: [Int64] = []
    /// The newest events, oldest first.
    public var events: [MeterEvent] = []
    /// How many events are kept.
    public var eventLimit = 100
    /// The last purchase sequence applied, per card serial (hex): each card, a replacement
    /// included, numbers its purchases from 1.
    public var cardSequences: [String: UInt32] = [:]
    /// Energy drawn over the meter's life, in tenths of a kWh (reported on the card).
    public var consumedTenths: UInt64 = 0
    /// The prices of a currency meter; nil for a kWh meter.
    public var timeOfUse: TimeOfUseTable?
    /// Currency meters: money owed but not yet a whole 10⁻⁵ unit, in 1/3 600 000 of a 10⁻⁵
    /// unit (watt-seconds × price per kWh), 0 ..< ``currencyPendingLimit``.
    public var currencyPending: Int64 = 0
    /// Currency meters: low-credit warning thresholds in 10⁻⁵ units, highest first (20.00, 5.00).
    public var warningCurrency: [Int128] = [2_000_000, 500_000]
    /// Currency meters: the money thresholds already warned about (re-armed when credit rises above them).
    public var warnedCurrency: [Int128] = []
    /// Collects the events of one operation (not saved).
    var journal: [MeterEvent]?

    /// Watt-seconds × price per kWh in one 10⁻⁵ unit: 3 600 000 W·s make a kWh.
    public static let currencyPendingLimit: Int64 = 3_600_000

    /// A meter with `state`'s registers; a currency meter when `timeOfUse` is given. The relay
    /// starts open when the credit it draws from is zero.
    public init(state: MeterState, timeOfUse: TimeOfUseTable? = nil) {
        decoder = MeterDecoder(state: state)
        self.timeOfUse = timeOfUse
        if !hasCredit { relay = .openNoCredit }
    }

    /// The decoder's state: identity, key, TID memory, registers.
    public var state: MeterState { decoder.state }

    /// Electricity credit in tenths of a kWh.
    public var electricityTenths: Int64 { Int64(clamping: decoder.state.registers[.electricity]) }

    /// Whether this is a currency meter (it has a time-of-use table).
    public var isCurrencyMeter: Bool { timeOfUse != nil }

    /// Electricity-currency credit in 10⁻⁵ currency units.
    public var currencyCredit: Int128 { decoder.state.registers[.electricityCurrency] }

    /// Whether the register this meter draws from holds credit (currency for a currency
    /// meter, kWh otherwise).
    public var hasCredit: Bool { isCurrencyMeter ? currencyCredit > 0 : electricityTenths > 0 }

    mutating func log(_ time: Int64, _ kind: String, _ detail: String) {
        let event = MeterEvent(time: time, kind: kind, detail: detail)
        events.append(event)
        journal?.append(event)
        if events.count > eventLimit { events.removeFirst(events.count - eventLimit) }
    }

    /// Enters a token as the keypad does, with the relay and event log following the result.
    public mutating func enter(_ text: String, at now: Int64) -> TokenOutcome {
        let before = decoder.state
        let outcome = decoder.enter(text, at: now)
        var detail = outcome.result.rawValue
        if let content = outcome.content { detail += " " + Self.describe(content) }
        log(now, "token", detail)
        if outcome.keyChanged {
            log(now, "key-change", "new key installed: KRN \(state.key.revision), KT \(state.key.keyType.rawValue), base date \(state.key.baseDate)")
        }
        if before.registers.tamper && !state.registers.tamper { log(now, "tamper", "tamper cleared") }
        afterCreditChange(at: now)
        return outcome
    }

    /// Puts `tenths` of a kWh on the electricity register, as credit bought before the meter
    /// came to the simulator (fleets start with some), and closes the relay.
    public mutating func startWithCredit(tenths: Int64) {
        decoder.state.registers[.electricity] = Int128(max(0, tenths))
        afterCreditChange(at: 0)
    }

    /// Sets the tamper flag, as the meter's tamper switch would.
    public mutating func detectTamper(at now: Int64) {
        guard !decoder.state.registers.tamper else { return }
        decoder.state.registers.tamper = true
        log(now, "tamper", "tamper detected: credit blocked until a clear-tamper token")
    }

    /// Closes the relay when credit returns, re-arms warnings above the credit.
    mutating func afterCreditChange(at now: Int64) {
        let credit = electricityTenths
        warned.removeAll { credit > $0 }
        let money = currencyCredit
        warnedCurrency.removeAll { money > $0 }
        if relay == .openNoCredit && hasCredit {
            relay = .closed
            log(now, "relay", "closed: credit available")
        } else if relay == .closed && !hasCredit {
            relay = .openNoCredit
            log(now, "relay", "opened: no credit")
        }
    }

    static func describe(_ content: TokenContent) -> String {
        switch content {
        case let .transferCredit(c): return "\(c.kind) \(DecimalQuantity.format(Int128(c.amount.units), scale: 1)) TID \(c.tid)"
        case let .currencyCredit(c): return "\(c.kind) \(c.amount.decimalString) TID \(c.tid)"
        case let .management(m): return "\(m.function) \(m.watts.map { "\($0) W" } ?? "\(m.value)") TID \(m.tid)"
        case let .meterTest(t): return "meter test control \(t.control)"
        case let .keyChange(k): return k.subclass.description
        }
    }
}
