import Foundation
import STSAuditLog

extension Station {
    /// Checks a second-factor code for someone already logged in (a server session) and
    /// returns them as acting with it: what a supervisor's tariff or key change needs in each
    /// request. Counted and throttled like a login under the same name and source, single use,
    /// logged on failure; the error never says which part failed.
    public func confirmSecondFactor(_ actor: Actor, totp: String, action: String,
                                    source: String = LoginThrottle.localSource) throws -> Actor {
        let givenAt = now()
        let attempt: LoginThrottle.State? = try write { tx in
            let t = try tx.throttle(name: actor.name, source: source)
            if t.lockedUntil > tx.now {
                try tx.log(.loginFailure, actor: actor.name) { w in w.field("action", action); w.field("locked", true) }
                return nil
            }
            return try tx.countLoginAttempt(name: actor.name, source: source, current: t)
        }
        guard let attempt else {
            let until = try read { tx in try tx.throttle(name: actor.name, source: source) }.lockedUntil
            throw StationError.loginLocked(until: AuditTime.format(until))
        }
        let row = try read { tx in
            try Row.fetchOne(tx.db, sql: "SELECT role, totp_secret, totp_last_step, active FROM users WHERE name = ?", arguments: [actor.name])
        }
        var step: Int64?
        if let row, (row["active"] as Int64) == 1, Role(rawValue: row["role"]) == actor.role {
            var secret = try kek.open(row["totp_secret"] as Data, purpose: "totp:\(actor.name)")
            defer { for i in secret.indices { secret[i] = 0 } }
            if let s = TOTP(secret: secret).matchingStep(totp, atUnixSeconds: givenAt), s > (row["totp_last_step"] as Int64) { step = s }
        }
        var ok = false
        if let step {
            ok = try write { tx in
                try tx.db.execute(sql: "UPDATE users SET totp_last_step = ? WHERE name = ? AND totp_last_step < ?", arguments: [step, actor.name, step])
                return tx.db.changesCount == 1
            }
        }
        guard ok else {
            try write { tx in
                try tx.log(.loginFailure, actor: actor.name) { w in w.field("action", action) }
                if attempt.lockedUntil > 0, attempt.failures >= Int64(LoginThrottle.threshold) {
                    try tx.log(.loginLockout, actor: actor.name) { w in
                        w.field("name", actor.name)
                        w.field("source", source)
                        w.field("failures", Int(attempt.failures))
                        w.field("until", AuditTime.format(attempt.lockedUntil))
                    }
                }
            }
            throw StationError.authenticationFailed
        }
        try write { tx in try tx.clearThrottle(name: actor.name, source: source) }
        return Actor(name: actor.name, role: actor.role, secondFactor: true)
    }

    /// Whether a user can still act: a session of a user disabled since it began ends.
    public func isActive(user: String) throws -> Bool {
        try read { tx in try Int64.fetchOne(tx.db, sql: "SELECT active FROM users WHERE name = ?", arguments: [user]) == 1 }
    }
}
