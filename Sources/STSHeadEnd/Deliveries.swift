import Foundation
import STSDLMS
import STSStation

/// The result of one delivery attempt.
public struct DeliveryAttempt: Sendable, Equatable {
    public var saleID: Int64
    public var pan: String
    /// The meter's result per token, or nil when the meter could not be reached.
    public var results: [String]?
    public var accepted: Bool
    public var error: String?
    /// Seconds the attempt took.
    public var seconds: Double
    /// Whether the relay was reconnected afterwards (credit back, supply not held open).
    public var reconnected: Bool
}

extension HeadEnd {
    /// Delivers one sale's tokens now and records the outcome. The delivery is claimed first
    /// (a lease on its row), so the sale's own attempt and the worker never enter it together.
    @discardableResult
    public func deliver(_ d: TokenDelivery) -> DeliveryAttempt {
        let start = DispatchTime.now().uptimeNanoseconds
        var attempt = DeliveryAttempt(saleID: d.saleID, pan: d.pan, results: nil, accepted: false, error: nil, seconds: 0, reconnected: false)
        guard let sentBefore = try? station.claimDelivery(sale: d.saleID) else {
            attempt.error = "another attempt is under way"
            return attempt
        }
        do {
            let retry = sentBefore
            let (results, reconnected, reading) = try withAssociation(d.pan) { a -> ([String], Bool, MeterReading?) in
                var results: [String] = []
                for token in d.tokens {
                    let r = try a.enter(token: token).result
                    // On a retry, "used" means the meter's TID memory already holds this sale's
                    // token: an earlier attempt got it in and lost the answer.
                    results.append(retry && r == "used" ? "accept" : r)
                }
                // The meter closes its own relay when credit returns; a remote disconnect is
                // lifted only when no supervisor holds the supply open. Neither step can undo the delivery.
                var reconnected = false
                var reading = try? a.reading()
                // Read the hold now, inside the meter's lock: a disconnect in flight has set it.
                let held = (try? station.supplyHeldOpen(d.pan)) ?? true
                if !held, let r = reading, !r.relayClosed, r.controlState == 0, r.credit > 0, (try? a.switchSupply(connect: true)) != nil {
                    reconnected = true
                    reading = try? a.reading()
                }
                return (results, reconnected, reading)
            }
            attempt.results = results
            attempt.accepted = results.allSatisfy { ["accept", "1st-kct", "2nd-kct", "3rd-kct", "4th-kct"].contains($0) }
            attempt.reconnected = reconnected
            if let r = reading {
                let now = Int64(Date().timeIntervalSince1970)
                try? station.recordReadings([(pan: d.pan, reading: StoredReading(time: now, energyWh: r.energyWh, powerW: r.powerW, credit: r.credit,
                                                                              relayClosed: r.relayClosed), profile: [], events: [])], channels: alertChannels)
            }
            if reconnected { try? station.recordAutomaticReconnect(pan: d.pan, sale: d.saleID) }
            try station.recordDelivery(sale: d.saleID, result: results.joined(separator: " "), accepted: attempt.accepted, error: nil)
        } catch {
            attempt.error = "\(error)"
            try? station.recordDelivery(sale: d.saleID, result: nil, accepted: false, error: "\(error)")
        }
        attempt.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return attempt
    }

    /// Delivers every due delivery (in parallel) and returns the attempts.
    @discardableResult
    public func deliverDue(limit: Int = 1000) -> [DeliveryAttempt] {
        guard let due = try? station.dueDeliveries(limit: limit), !due.isEmpty else { return [] }
        return fanOut(due) { self.deliver($0) }
    }

    /// Opens or closes a meter's supply for a supervisor, and logs it.
    public func switchSupply(pan: String, connect: Bool, reason: String, by actor: Actor) throws {
        try station.authorizeRemoteSwitch(actor)
        guard try station.isConnected(pan) else { throw StationError.notFound("connected meter \(pan)") }
        // Hold the supply open before the relay moves, so no delivery in flight closes it again.
        if !connect { try station.holdSupply(pan, held: true) }
        try withAssociation(pan) { a in try a.switchSupply(connect: connect) }
        try station.recordRemoteSwitch(pan: pan, connect: connect, reason: reason, by: actor)
    }
}
