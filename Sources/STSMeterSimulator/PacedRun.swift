import Foundation

extension StateFile {
    /// Draws `loadWatts` from the meter kept at `path` for `seconds` of simulated time from
    /// `start`, paced at `speed` simulated seconds per real second: one simulated minute per
    /// step, each applied under the state file's lock, so tokens keyed in meanwhile (keypad,
    /// enter) are kept. `progress` is called after each step with the simulated seconds done.
    /// Returns the whole run's report and the meter as saved after the last step.
    public static func run(_ path: String, loadWatts: Int64, seconds: Int64, start: Int64, speed: Double,
                           progress: (_ elapsed: Int64) -> Void = { _ in }) throws -> (report: ConsumptionReport, meter: SimulatedMeter) {
        var report = ConsumptionReport()
        var elapsed: Int64 = 0
        repeat {
            let step = min(60, seconds - elapsed)
            let part = try update(path) { $0.run(loadWatts: loadWatts, seconds: step, start: start + elapsed) }
            report.secondsSupplied += part.secondsSupplied
            report.tenthsConsumed += part.tenthsConsumed
            report.currencyCharged += part.currencyCharged
            report.chargedByPeriod.merge(part.chargedByPeriod, uniquingKeysWith: +)
            report.events += part.events
            elapsed += step
            progress(elapsed)
            // A step's real time, never more than a minute whatever the speed.
            if elapsed < seconds { usleep(useconds_t(min(Double(step) / speed, 60) * 1_000_000)) }
        } while elapsed < seconds
        return (report, try load(path))
    }
}
