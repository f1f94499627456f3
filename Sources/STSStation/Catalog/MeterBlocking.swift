import Foundation
import STSTokenFormat

extension Station {
    /// Blocks a meter from every sale (supervisor with second factor): a tampered meter, a
    /// disputed account, a meter removed from its premises. Counters, the server and point-of-sale
    /// networks then refuse it (`meter-blocked`, with the reason) until it is unblocked. Logged.
    public func blockMeter(_ pan: MeterPAN, reason: String, by actor: Actor) throws {
        try actor.require([.supervisor], to: "block meters", secondFactor: true)
        guard (1...200).contains(reason.utf8.count), !reason.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else {
            throw StationError.invalid(.reason, "a block needs a reason: 1–200 bytes on one line")
        }
        try setBlock(pan, reason: reason, by: actor)
    }

    /// Lifts a meter's block (supervisor with second factor). Logged.
    public func unblockMeter(_ pan: MeterPAN, by actor: Actor) throws {
        try actor.require([.supervisor], to: "unblock meters", secondFactor: true)
        try setBlock(pan, reason: nil, by: actor)
    }

    /// Why a meter is blocked from sales; nil when it is not.
    public func blockReason(_ pan: MeterPAN) throws -> String? {
        try read { tx in try tx.meter(pan.description).blockedReason }
    }

    private func setBlock(_ pan: MeterPAN, reason: String?, by actor: Actor) throws {
        try write { tx in
            let before = try tx.meter(pan.description).blockedReason
            guard before != reason else { return }
            try tx.db.execute(sql: "UPDATE meters SET blocked_reason = ? WHERE pan = ?", arguments: [reason, pan.description])
            try tx.log(.meterBlock, actor: actor.name) { w in
                w.field("pan", pan.description)
                w.field("blocked", reason != nil)
                if let reason { w.field("reason", reason) }
            }
        }
    }
}
