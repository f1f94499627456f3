import STSMeter
import STSTokenFormat

/// What a consumption run did.
public struct ConsumptionReport: Equatable, Sendable {
    /// Simulated seconds during which the load drew power.
    public var secondsSupplied: Int64 = 0
    /// Energy drawn, in tenths of a kWh.
    public var tenthsConsumed: Int64 = 0
    /// Events logged during the run.
    public var events: [MeterEvent] = []

    public init() {}
}

extension SimulatedMeter {
    /// Draws `loadWatts` for `seconds` of simulated time from `start`, one minute at a time:
    /// credit goes down in whole 0.1 kWh (3 600 000 / 10 watt-seconds) steps, warnings fire
    /// when credit falls to a threshold, the relay opens at zero credit and trips when the load
    /// exceeds the maximum power limit. `tick` is called after every simulated minute (a
    /// faster-than-real-time clock sleeps there).
    public mutating func run(loadWatts: Int64, seconds: Int64, start: Int64,
                             tick: (_ elapsed: Int64) -> Void = { _ in }) -> ConsumptionReport {
        var report = ConsumptionReport()
        journal = []
        defer { journal = nil }
        // A relay tripped by overload reconnects when a run starts with an acceptable load.
        if relay == .openOverload, decoder.state.registers.maximumPowerLimit.map({ loadWatts <= Int64($0) }) ?? true {
            relay = electricityTenths > 0 ? .closed : .openNoCredit
            log(start, "relay", relay == .closed ? "closed: load within the power limit" : "opened: no credit")
        }
        var elapsed: Int64 = 0
        while elapsed < seconds {
            let now = start + elapsed
            if let limit = decoder.state.registers.maximumPowerLimit, loadWatts > Int64(limit), relay == .closed {
                relay = .openOverload
                log(now, "relay", "tripped: load \(loadWatts) W exceeds the maximum power limit \(limit) W")
            }
            guard relay == .closed else { break }
            let step = min(60, seconds - elapsed)
            wattSecondsPending += loadWatts * step
            let tenths = wattSecondsPending / 360_000
            if tenths > 0 {
                wattSecondsPending -= tenths * 360_000
                let taken = min(tenths, max(0, electricityTenths))
                decoder.state.registers[.electricity] -= Int128(taken)
                report.tenthsConsumed += taken
                consumedTenths = min(consumedTenths &+ UInt64(taken), MeterClock.maximumConsumedTenths)
            }
            elapsed += step
            report.secondsSupplied += step
            let credit = electricityTenths
            // One warning for the lowest threshold reached; the ones above it count as warned too.
            let reached = warningTenths.filter { credit <= $0 && !warned.contains($0) }
            if let lowest = reached.min(), credit > 0 {
                warned.append(contentsOf: reached)
                log(start + elapsed, "warning", "low credit: \(DecimalQuantity.format(Int128(credit), scale: 1)) kWh left (threshold \(DecimalQuantity.format(Int128(lowest), scale: 1)) kWh)")
            }
            afterCreditChange(at: start + elapsed)
            tick(elapsed)
        }
        report.events = journal ?? []
        return report
    }
}
