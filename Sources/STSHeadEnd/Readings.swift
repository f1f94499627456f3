import Foundation
import STSDLMS
import STSStation

/// One meter's part of a reading round.
public struct ReadingOutcome: Sendable {
    public var pan: String
    public var reading: MeterReading?
    public var profileEntries: Int
    public var events: Int
    public var error: String?
    public var seconds: Double
}

extension HeadEnd {
    /// Reads registers, the load profile since the last stored capture and the event log of
    /// every connected meter (in parallel), and stores them in one transaction.
    public func readAll(now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> [ReadingOutcome] {
        let pans = try station.connectedMeters()
        let station = self.station
        let collected = fanOut(pans) { pan -> (ReadingOutcome, StoredReading?, [(Int64, Int64)], [(Int64, Int64)]) in
            let start = DispatchTime.now().uptimeNanoseconds
            var o = ReadingOutcome(pan: pan, reading: nil, profileEntries: 0, events: 0, error: nil, seconds: 0)
            var stored: StoredReading?
            var profile: [(Int64, Int64)] = [], events: [(Int64, Int64)] = []
            do {
                let since = (try station.lastProfileTime(pan)).map { $0 + 1 } ?? now - 8 * 86_400
                try self.withAssociation(pan) { a in
                    let r = try a.reading()
                    o.reading = r
                    stored = StoredReading(time: now, energyWh: r.energyWh, powerW: r.powerW, credit: r.credit, relayClosed: r.relayClosed)
                    profile = try a.loadProfile(since: since, until: now)
                    events = try a.events()
                }
                o.profileEntries = profile.count
                o.events = events.count
            } catch { o.error = "\(error)" }
            o.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return (o, stored, profile, events)
        }
        try station.recordReadings(collected.compactMap { c in c.1.map { (pan: c.0.pan, reading: $0, profile: c.2, events: c.3) } },
                                   channels: alertChannels)
        return collected.map(\.0)
    }
}
