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
    /// Delivers one sale's tokens now (whatever its back-off says) and records the outcome.
    @discardableResult
    public func deliver(_ d: TokenDelivery) -> DeliveryAttempt {
        let start = DispatchTime.now().uptimeNanoseconds
        var attempt = DeliveryAttempt(saleID: d.saleID, pan: d.pan, results: nil, accepted: false, error: nil, seconds: 0, reconnected: false)
        do {
            let held = (try? link(d.pan))?.supply == "held-open"
            let (results, reconnected) = try withAssociation(d.pan) { a -> ([String], Bool) in
                var results: [String] = []
                for token in d.tokens { results.append(try a.enter(token: token).result) }
                // The meter closes its own relay when credit returns; a remote disconnect is
                // lifted only when no supervisor holds the supply open.
                var reconnected = false
                if !held, let r = try? a.reading(), !r.relayClosed, r.controlState == 0, r.credit > 0 {
                    try a.switchSupply(connect: true)
                    reconnected = true
                }
                return (results, reconnected)
            }
            attempt.results = results
            attempt.accepted = results.allSatisfy { ["accept", "1st-kct", "2nd-kct", "3rd-kct", "4th-kct"].contains($0) }
            attempt.reconnected = reconnected
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
        try withAssociation(pan) { a in try a.switchSupply(connect: connect) }
        try station.recordRemoteSwitch(pan: pan, connect: connect, reason: reason, by: actor)
    }
}
