import STSMeter
import STSTariff
import STSTokenFormat

/// What a consumption run did.
public struct ConsumptionReport: Equatable, Sendable {
    /// Simulated seconds during which the load drew power.
    public var secondsSupplied: Int64 = 0
    /// Energy drawn, in tenths of a kWh (kWh meters: what left the register).
    public var tenthsConsumed: Int64 = 0
    /// Currency meters: money taken from the electricity-currency register, in 10⁻⁵ units.
    public var currencyCharged: Int128 = 0
    /// Currency meters: ``currencyCharged`` by the period in force when it was charged.
    public var chargedByPeriod: [String: Int128] = [:]
    /// Events logged during the run.
    public var events: [MeterEvent] = []

    /// An empty report: nothing supplied, drawn or charged, no events.
    public init() {}
}

extension SimulatedMeter {
    /// The largest load a run draws: larger (and negative) loads are clamped, so no product of
    /// a load, a minute and a price can overflow.
    public static let maximumLoadWatts: Int64 = 1_000_000_000_000

    /// Draws `loadWatts` for `seconds` of simulated time from `start`, one minute at a time.
    /// A kWh meter's credit goes down in whole 0.1 kWh (3 600 000 / 10 watt-seconds) steps; a
    /// currency meter's by the time-of-use price of each minute (see ``chargeCurrency``).
    /// Warnings fire when credit falls to a threshold, the relay opens at zero credit and
    /// trips when the load exceeds the maximum power limit. `tick` is called after every
    /// simulated minute (a faster-than-real-time clock sleeps there).
    public mutating func run(loadWatts: Int64, seconds: Int64, start: Int64,
                             tick: (_ elapsed: Int64) -> Void = { _ in }) -> ConsumptionReport {
        var report = ConsumptionReport()
        journal = []
        defer { journal = nil }
        let load = min(max(loadWatts, 0), Self.maximumLoadWatts)
        // A relay tripped by overload reconnects when a run starts with an acceptable load.
        if relay == .openOverload, decoder.state.registers.maximumPowerLimit.map({ load <= Int64($0) }) ?? true {
            relay = hasCredit ? .closed : .openNoCredit
            log(start, "relay", relay == .closed ? "closed: load within the power limit" : "opened: no credit")
        }
        var elapsed: Int64 = 0
        while elapsed < seconds {
            let now = start + elapsed
            if let limit = decoder.state.registers.maximumPowerLimit, load > Int64(limit), relay == .closed {
                relay = .openOverload
                log(now, "relay", "tripped: load \(load) W exceeds the maximum power limit \(limit) W")
            }
            guard relay == .closed else { break }
            let step = min(60, seconds - elapsed)
            let tenths = meterEnergy(load * step)
            if let table = timeOfUse {
                report.tenthsConsumed += tenths
                chargeCurrency(wattSeconds: load * step, price: table.price(at: now, tariffRate: decoder.state.registers.tariffRate),
                               period: table.period(at: now).name, into: &report)
            } else if tenths > 0 {
                let taken = min(tenths, max(0, electricityTenths))
                decoder.state.registers[.electricity] -= Int128(taken)
                report.tenthsConsumed += taken
                consumedTenths = min(consumedTenths &+ UInt64(taken), MeterClock.maximumConsumedTenths)
            }
            elapsed += step
            report.secondsSupplied += step
            if isCurrencyMeter { warnCurrency(at: start + elapsed) } else { warnUnits(at: start + elapsed) }
            afterCreditChange(at: start + elapsed)
            tick(elapsed)
        }
        report.events = journal ?? []
        return report
    }

    /// Adds energy to the watt-second accumulator and returns the whole tenths of a kWh it
    /// completes (a currency meter counts them as lifetime consumption at once).
    mutating func meterEnergy(_ wattSeconds: Int64) -> Int64 {
        wattSecondsPending += wattSeconds
        let tenths = wattSecondsPending / 360_000
        wattSecondsPending -= tenths * 360_000
        if isCurrencyMeter, tenths > 0 {
            consumedTenths = min(consumedTenths &+ UInt64(tenths), MeterClock.maximumConsumedTenths)
        }
        return tenths
    }

    /// One warning for the lowest kWh threshold reached; the ones above it count as warned too.
    mutating func warnUnits(at time: Int64) {
        let credit = electricityTenths
        if let lowest = Self.newlyReached(credit, thresholds: warningTenths, warned: &warned) {
            log(time, "warning", "low credit: \(DecimalQuantity.format(Int128(credit), scale: 1)) kWh left (threshold \(DecimalQuantity.format(Int128(lowest), scale: 1)) kWh)")
        }
    }

    /// The lowest threshold `credit` (still above zero) has newly fallen to, if any; it and every
    /// threshold above it are then marked warned, so one fall gives one warning. kWh and money
    /// warnings share this rule.
    static func newlyReached<T: SignedInteger>(_ credit: T, thresholds: [T], warned: inout [T]) -> T? {
        let reached = thresholds.filter { credit <= $0 && !warned.contains($0) }
        guard let lowest = reached.min(), credit > 0 else { return nil }
        warned.append(contentsOf: reached)
        return lowest
    }
}
