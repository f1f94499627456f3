import Crypto
import Foundation
import STSStation
import Synchronization

/// Point-of-sale credentials that authenticated in the last few seconds, by a hash of name and
/// secret (never the secret itself): most requests of a busy client then read nothing before
/// their commit. A disabled client or a renewed secret is refused by the store within
/// ``lifetime`` seconds for lookups, and at once for every message with an effect (each checks
/// the client in its own transaction).
final class POSCredentialCache: Sendable {
    let lifetime: Int64
    let now: @Sendable () -> Int64
    private let entries = Mutex([Data: (client: POSClient, until: Int64)]())

    init(lifetime: Int64 = 5, now: @escaping @Sendable () -> Int64) {
        self.lifetime = lifetime
        self.now = now
    }

    static func key(_ name: String, _ secret: String) -> Data {
        var h = SHA256()
        h.update(data: Array(name.utf8) + [0] + Array(secret.utf8))
        return Data(h.finalize())
    }

    /// The client these credentials authenticated as a moment ago, if any.
    func client(name: String, secret: String) -> POSClient? {
        let key = Self.key(name, secret), t = now()
        return entries.withLock { e in
            guard let hit = e[key] else { return nil }
            if hit.until < t { e[key] = nil; return nil }
            return hit.client
        }
    }

    /// Remembers credentials that just authenticated.
    func remember(_ client: POSClient, secret: String) {
        let key = Self.key(client.name, secret), until = now() + lifetime
        entries.withLock { e in
            if e.count > 10_000 { e.removeAll() }
            e[key] = (client, until)
        }
    }
}
