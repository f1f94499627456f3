import Foundation

extension Station {
    /// Deliveries whose next attempt is due, oldest first.
    public func dueDeliveries(limit: Int = 256) throws -> [TokenDelivery] {
        try read { tx in
            try Row.fetchAll(tx.db.cachedStatement(sql: """
                SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, sale_id LIMIT ?
                """), arguments: [tx.now, max(1, min(limit, 10_000))]).map(Self.delivery)
        }
    }

    /// Takes the delivery for one attempt: due (or new) and pending, its next attempt moved a
    /// lease ahead so no other attempt starts meanwhile, and marked as sent (for good: a token
    /// once sent may have been applied). Nil when another attempt holds it; otherwise whether
    /// an earlier attempt already sent its tokens (then the meter's "used" means applied).
    public func claimDelivery(sale: Int64, lease: Int64 = 60) throws -> Bool? {
        try write { tx in
            let sentBefore = try Bool.fetchOne(tx.db, sql: "SELECT sent FROM deliveries WHERE sale_id = ? AND state = 'pending' AND next_attempt_at <= ?",
                                               arguments: [sale, tx.now])
            guard let sentBefore else { return nil }
            try tx.db.execute(sql: "UPDATE deliveries SET next_attempt_at = ?, sent = 1 WHERE sale_id = ?", arguments: [tx.now + lease, sale])
            return sentBefore
        }
    }

    /// Marks that a supervisor holds the meter's supply open (before the disconnect is sent, so
    /// no delivery reconnects it meanwhile), or releases the hold.
    public func holdSupply(_ pan: String, held: Bool) throws {
        try write { tx in
            try tx.db.execute(sql: "UPDATE meter_links SET supply = ? WHERE pan = ?", arguments: [held ? "held-open" : "auto", pan])
        }
    }

    /// Whether a supervisor's remote disconnect holds the meter's supply open.
    public func supplyHeldOpen(_ pan: String) throws -> Bool {
        try read { tx in try String.fetchOne(tx.db, sql: "SELECT supply FROM meter_links WHERE pan = ?", arguments: [pan]) == "held-open" }
    }

    /// Logs the head-end's automatic reconnect after a delivery brought credit back.
    public func recordAutomaticReconnect(pan: String, sale: Int64) throws {
        try write { tx in
            try tx.log(.remoteSwitch, actor: "head-end") { w in
                w.field("meter", pan)
                w.field("relay", "closed")
                w.field("reason", "credit restored by sale \(sale)")
            }
        }
    }

    /// The delivery of a sale, nil when its meter is not connected.
    public func delivery(sale: Int64) throws -> TokenDelivery? {
        try read { tx in try Row.fetchOne(tx.db, sql: "SELECT * FROM deliveries WHERE sale_id = ?", arguments: [sale]).map(Self.delivery) }
    }

    /// Deliveries in `state` (`dead` is the dead-letter list), newest first.
    public func deliveries(state: String, limit: Int = 100) throws -> [TokenDelivery] {
        try read { tx in
            try Row.fetchAll(tx.db, sql: "SELECT * FROM deliveries WHERE state = ? ORDER BY sale_id DESC LIMIT ?",
                             arguments: [state, max(1, min(limit, 1000))]).map(Self.delivery)
        }
    }

    /// Records what the meter answered (`result`: its results, `accepted`: all tokens applied)
    /// or, with `error`, a failed attempt: retried with back-off (2, 4, 8 … s, at most 10 min)
    /// and parked as `dead` after ``deliveryAttempts``.
    public func recordDelivery(sale: Int64, result: String?, accepted: Bool, error: String?) throws {
        try write { tx in
            guard let r = try Row.fetchOne(tx.db, sql: "SELECT attempts, state FROM deliveries WHERE sale_id = ?", arguments: [sale]) else {
                throw StationError.notFound("delivery of sale \(sale)")
            }
            guard (r["state"] as String) == "pending" else { return }
            let attempts = (r["attempts"] as Int) + 1
            if let result {
                try tx.db.execute(sql: "UPDATE deliveries SET state = ?, attempts = ?, result = ?, last_error = '', updated_at = ? WHERE sale_id = ?",
                                  arguments: [accepted ? "delivered" : "refused", attempts, String(result.prefix(200)), tx.now, sale])
            } else {
                let backoff = Int64(min(600, 1 << min(attempts, 10)))
                try tx.db.execute(sql: """
                    UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE sale_id = ?
                    """, arguments: [attempts >= Self.deliveryAttempts ? "dead" : "pending", attempts, tx.now + backoff,
                                     String((error ?? "").prefix(200)), tx.now, sale])
            }
        }
    }

    /// Puts a dead delivery back in the queue (supervisor), e.g. after the meter's link is fixed.
    public func retryDelivery(sale: Int64, by actor: Actor) throws {
        try actor.require([.supervisor], to: "retry deliveries")
        try write { tx in
            try tx.db.execute(sql: "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE sale_id = ? AND state = 'dead'",
                              arguments: [tx.now, tx.now, sale])
            guard tx.db.changesCount == 1 else { throw StationError.notFound("dead delivery of sale \(sale)") }
        }
    }

    static func delivery(_ r: Row) -> TokenDelivery {
        TokenDelivery(saleID: r["sale_id"], pan: r["pan"], tokens: (r["tokens"] as String).split(separator: " ").map(String.init),
                      state: r["state"], attempts: r["attempts"], nextAttemptAt: r["next_attempt_at"], result: r["result"], lastError: r["last_error"])
    }
}
