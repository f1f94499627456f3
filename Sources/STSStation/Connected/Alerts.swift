import Foundation

/// An alert about a connected meter (low credit, supply cut, tamper).
public struct MeterAlert: Sendable, Equatable {
    public var id: Int64
    public var pan: String
    /// `low-credit`, `relay-open-no-credit`, `tamper`.
    public var kind: String
    public var time: Int64
    public var detail: String
}

/// A notification of an alert on one channel, due for sending.
public struct PendingNotification: Sendable, Equatable {
    public var alert: MeterAlert
    public var channel: String
    public var attempts: Int
    /// The resident's contact for this meter (empty when none is kept).
    public var email: String
    public var phone: String
}

extension Station {
    /// How many failed attempts park a notification as dead.
    public static let notificationAttempts = 12

    /// Alerts, newest first.
    public func alerts(limit: Int = 100) throws -> [MeterAlert] {
        try read { tx in
            try Row.fetchAll(tx.db, sql: "SELECT * FROM alerts ORDER BY id DESC LIMIT ?", arguments: [max(1, min(limit, 1000))]).map(Self.alert)
        }
    }

    /// Notifications due now.
    public func dueNotifications(limit: Int = 100) throws -> [PendingNotification] {
        try read { tx in
            try Row.fetchAll(tx.db, sql: """
                SELECT a.*, n.channel, n.attempts, COALESCE(c.email, '') AS email, COALESCE(c.phone, '') AS phone
                FROM notifications n JOIN alerts a ON a.id = n.alert_id LEFT JOIN meter_contacts c ON c.pan = a.pan
                WHERE n.state = 'pending' AND n.next_attempt_at <= ? ORDER BY a.id LIMIT ?
                """, arguments: [tx.now, max(1, min(limit, 1000))]).map {
                PendingNotification(alert: Self.alert($0), channel: $0["channel"], attempts: $0["attempts"], email: $0["email"], phone: $0["phone"])
            }
        }
    }

    /// Claims a due notification for one sender for `lease` seconds: true for the one process
    /// that gets it, so stations sharing a database never send the same alert twice at once.
    public func claimNotification(alert: Int64, channel: String, lease: Int64 = 120) throws -> Bool {
        try write { tx in
            try tx.db.execute(sql: """
                UPDATE notifications SET next_attempt_at = ? WHERE alert_id = ? AND channel = ? AND state = 'pending' AND next_attempt_at <= ?
                """, arguments: [tx.now + lease, alert, channel, tx.now])
            return tx.db.changesCount == 1
        }
    }

    /// Records a sending attempt: sent, or retried with back-off (2, 4 … s, at most 10 min) and dead after ``notificationAttempts``.
    public func recordNotification(alert: Int64, channel: String, error: String?) throws {
        try write { tx in
            let attempts = (try Int.fetchOne(tx.db, sql: "SELECT attempts FROM notifications WHERE alert_id = ? AND channel = ?", arguments: [alert, channel]) ?? 0) + 1
            if error == nil {
                try tx.db.execute(sql: "UPDATE notifications SET state = 'sent', attempts = ?, last_error = '' WHERE alert_id = ? AND channel = ? AND state = 'pending'",
                                  arguments: [attempts, alert, channel])
            } else {
                try tx.db.execute(sql: "UPDATE notifications SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE alert_id = ? AND channel = ? AND state = 'pending'",
                                  arguments: [attempts >= Self.notificationAttempts ? "dead" : "pending", attempts, tx.now + Int64(min(600, 1 << min(attempts, 10))),
                                              String((error ?? "").prefix(200)), alert, channel])
            }
        }
    }

    /// Notifications that gave up: (alert, channel, attempts, last error).
    public func deadNotifications(limit: Int = 100) throws -> [(alert: MeterAlert, channel: String, attempts: Int, lastError: String)] {
        try read { tx in
            try Row.fetchAll(tx.db, sql: """
                SELECT a.*, n.channel, n.attempts, n.last_error FROM notifications n JOIN alerts a ON a.id = n.alert_id
                WHERE n.state = 'dead' ORDER BY a.id DESC LIMIT ?
                """, arguments: [max(1, min(limit, 1000))]).map { (Self.alert($0), $0["channel"], $0["attempts"], $0["last_error"]) }
        }
    }

    /// Keeps a resident's contact for alerts about `pan` (empty strings remove it), and the
    /// account's low-credit threshold in tenths of a kWh.
    public func setAlertContact(pan: String, email: String, phone: String, lowCreditTenths: Int64?, by actor: Actor) throws {
        try actor.require([.supervisor], to: "set alert contacts")
        guard email.utf8.count <= 200, phone.utf8.count <= 32, !email.contains("\r"), !email.contains("\n"),
              email.isEmpty || email.contains("@"), phone.allSatisfy({ $0.isNumber || $0 == "+" }) else {
            throw StationError.invalid(.customer, "an email address and a phone number (digits, +)")
        }
        if let t = lowCreditTenths, !(0...1_000_000).contains(t) { throw StationError.invalid(.amount, "a low-credit threshold is 0–100000 kWh") }
        try write { tx in
            _ = try tx.meter(pan)
            if email.isEmpty && phone.isEmpty {
                try tx.db.execute(sql: "DELETE FROM meter_contacts WHERE pan = ?", arguments: [pan])
            } else {
                try tx.db.execute(sql: "INSERT INTO meter_contacts (pan, email, phone) VALUES (?, ?, ?) ON CONFLICT (pan) DO UPDATE SET email = excluded.email, phone = excluded.phone", arguments: [pan, email, phone])
            }
            if let t = lowCreditTenths { try tx.db.execute(sql: "UPDATE meter_links SET low_credit_tenths = ? WHERE pan = ?", arguments: [t, pan]) }
        }
    }

    static func alert(_ r: Row) -> MeterAlert {
        MeterAlert(id: r["id"], pan: r["pan"], kind: r["kind"], time: r["time"], detail: r["detail"])
    }
}

/// Contact details as logs may show them: most characters masked.
public enum ContactMask {
    /// `r***@example.com`.
    public static func email(_ e: String) -> String {
        guard let at = e.firstIndex(of: "@") else { return e.isEmpty ? "" : "***" }
        return String(e.prefix(1)) + "***" + String(e[at...])
    }
    /// `+254***123`.
    public static func phone(_ p: String) -> String { p.count <= 6 ? "***" : String(p.prefix(4)) + "***" + String(p.suffix(3)) }
}
