import Foundation
import STSTariff

/// A user as supervisors see them: never a password hash or a second-factor secret.
public struct UserSummary: Sendable, Equatable {
    /// The login name.
    public var name: String
    /// What they may do.
    public var role: Role
    /// Whether they can still log in (a disabled user cannot).
    public var active: Bool
    /// Whether failed logins locked the name until some time (Unix seconds), 0 when not.
    public var lockedUntil: Int64
}

extension Station {
    /// The latest version of every tariff, by name.
    public func tariffs() throws -> [(tariff: Tariff, version: Int)] {
        try read { tx in
            let names = try String.fetchAll(tx.db, sql: "SELECT DISTINCT name FROM tariffs ORDER BY name")
            return try names.map { name in let (t, v) = try tariff(name, tx); return (t, v) }
        }
    }

    /// The station's users (supervisors and auditors).
    public func users(by actor: Actor) throws -> [UserSummary] {
        try actor.require([.supervisor, .auditor], to: "list users")
        return try read { tx in
            try Row.fetchAll(tx.db, sql: """
                SELECT u.name, u.role, u.active, COALESCE(MAX(t.locked_until), 0) AS locked FROM users u
                LEFT JOIN login_throttle t ON t.name = u.name GROUP BY u.id ORDER BY u.name
                """).map { r in
                UserSummary(name: r["name"], role: Role(rawValue: r["role"]) ?? .auditor, active: (r["active"] as Int64) == 1,
                            lockedUntil: (r["locked"] as Int64) > tx.now ? r["locked"] : 0)
            }
        }
    }

    /// The names of the key-change campaigns, oldest first.
    public func campaigns() throws -> [String] {
        try read { tx in try String.fetchAll(tx.db, sql: "SELECT name FROM campaigns ORDER BY created_at, name") }
    }
}
