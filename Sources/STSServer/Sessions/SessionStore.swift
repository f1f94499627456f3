import Crypto
import Foundation
import STSStation
import STSSupport
import Synchronization

/// A logged-in user: who acts, and the CSRF token their console forms carry.
struct Session: Sendable {
    var actor: Actor
    /// Carried by every console form and checked on every console POST (a cookie alone is not enough).
    var csrf: String
    var created: Int64
    var lastSeen: Int64
    var source: String
    /// When the user was last found still active in the station (a user disabled from the
    /// command line loses their sessions within ``SessionStore/recheck`` seconds).
    var checked: Int64
}

/// Sessions in memory, keyed by the SHA-256 of their bearer token (the token itself is kept
/// nowhere: a memory dump shows no usable token). A session ends after `idle` seconds without
/// a request, `lifetime` seconds after login, at logout, or when the server stops.
final class SessionStore: Sendable {
    let idle: Int64
    let lifetime: Int64
    let now: @Sendable () -> Int64
    /// Seconds between checks that a session's user is still active.
    static let recheck: Int64 = 60
    private let sessions = Mutex<[String: Session]>([:])
    /// Above this many live sessions, logins end the oldest ones (memory stays bounded).
    static let maximum = 10_000

    init(idle: Int64 = 30 * 60, lifetime: Int64 = 12 * 3600, now: @escaping @Sendable () -> Int64) {
        self.idle = idle
        self.lifetime = lifetime
        self.now = now
    }

    /// Opens a session and returns its bearer token (43 base64url characters, 256 random bits).
    func open(_ actor: Actor, source: String) -> (token: String, session: Session) {
        let token = Self.random()
        let t = now()
        let s = Session(actor: actor, csrf: Self.random(), created: t, lastSeen: t, source: source, checked: t)
        sessions.withLock { all in
            if all.count >= Self.maximum {
                let expired = all.filter { $0.value.lastSeen + idle < t || $0.value.created + lifetime < t }.map(\.key)
                for k in expired { all[k] = nil }
                if all.count >= Self.maximum, let oldest = all.min(by: { $0.value.created < $1.value.created })?.key { all[oldest] = nil }
            }
            all[Self.digest(token)] = s
        }
        return (token, s)
    }

    /// The live session for a token (its idle clock restarted), or nil.
    func session(_ token: String) -> Session? {
        guard token.utf8.count == 43 else { return nil }
        let key = Self.digest(token)
        let t = now()
        return sessions.withLock { all in
            guard var s = all[key] else { return nil }
            guard s.lastSeen + idle >= t, s.created + lifetime >= t else { all[key] = nil; return nil }
            s.lastSeen = t
            all[key] = s
            return s
        }
    }

    /// Whether the session's user is due to be looked up again in the station.
    func dueForCheck(_ s: Session) -> Bool {
        let t = now()
        return t - s.checked >= Self.recheck || t < s.checked
    }

    /// Records that the session's user was found active now.
    func markChecked(_ token: String) {
        let key = Self.digest(token), t = now()
        sessions.withLock { all in if all[key] != nil { all[key]?.checked = t } }
    }

    /// Ends a session.
    func close(_ token: String) {
        let key = Self.digest(token)
        _ = sessions.withLock { $0.removeValue(forKey: key) }
    }

    /// Ends every session of a user (disabled, or their password changed).
    func closeAll(user: String) {
        sessions.withLock { all in all = all.filter { $0.value.actor.name != user } }
    }

    static func digest(_ token: String) -> String { Hex.string(Array(SHA256.hash(data: Data(token.utf8)))) }

    static func random() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Constant-time comparison of two tokens (CSRF).
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for i in x.indices { d |= x[i] ^ y[i] }
        return d == 0
    }
}

extension SessionStore {
    /// The session for a token without restarting its idle clock (the request log).
    func peek(_ token: String) -> Session? {
        guard token.utf8.count == 43 else { return nil }
        let key = Self.digest(token)
        return sessions.withLock { $0[key] }
    }
}
