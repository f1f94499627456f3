import Crypto
import Foundation
import STSTariff

/// A point-of-sale client: one aggregator (a supermarket chain, a bank, a mobile-money network)
/// that vends through the station's point-of-sale interface with its own credentials.
public struct POSClient: Sendable, Equatable {
    /// The client's name: its HTTP Basic user name, and `pos:NAME` as the actor in the log.
    public var name: String
    /// Where it may connect from; empty: anywhere.
    public var allowedSources: [SourceAddressRule]
    /// The ISO 4217 numeric code of the currency its amounts are in ("710"); the station's
    /// money has two decimals, so an amount's minor units are its cents.
    public var currency: String
    /// The smallest and largest purchase it may make.
    public var minimum: Money, maximum: Money
    /// Whether its reversal advices may reverse a purchase (by the station's reversal rules);
    /// when false every reversal is declined, as prepaid tokens cannot be recalled.
    public var reversals: Bool
    /// Whether it may connect at all.
    public var enabled: Bool

    /// A client with its settings, enabled.
    public init(name: String, allowedSources: [SourceAddressRule] = [], currency: String, minimum: Money, maximum: Money, reversals: Bool = false) {
        self.name = name
        self.allowedSources = allowedSources
        self.currency = currency
        self.minimum = minimum
        self.maximum = maximum
        self.reversals = reversals
        enabled = true
    }

    /// The actor the log names for this client's sales and advices.
    public var actor: Actor { Actor(name: "pos:" + name, role: .operator, secondFactor: false) }

    /// Checks the settings a supervisor gives.
    func validate() throws(StationError) {
        guard (1...32).contains(name.utf8.count), name.utf8.first.map({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }) == true,
              name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || $0 == 46 }) else {
            throw .invalid(.posClient, "a point-of-sale client's name is 1–32 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit")
        }
        guard currency.utf8.count == 3, currency.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw .invalid(.currency, "the currency is its ISO 4217 numeric code, three digits (710 for ZAR, 566 for NGN, 404 for KES)")
        }
        guard minimum.cents >= 0, minimum <= maximum, maximum.cents <= Money.maximumCents else {
            throw .invalid(.limits, "the smallest purchase must be 0 or more and not above the largest")
        }
    }
}

extension Station {
    /// Adds a point-of-sale client (supervisor with second factor) and returns its secret: 32
    /// random bytes in base64url, shown once, stored only as its SHA-256 (a random 256-bit
    /// secret needs no slow hash, and every request carries it). Logged without the secret.
    public func addPOSClient(_ client: POSClient, by actor: Actor) throws -> String {
        try actor.require([.supervisor], to: "add point-of-sale clients", secondFactor: true)
        try client.validate()
        let secret = Self.newPOSSecret()
        try write { tx in
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM pos_clients WHERE name = ?", arguments: [client.name]) == nil else {
                throw StationError.alreadyExists("point-of-sale client \(client.name)")
            }
            try tx.db.execute(sql: """
                INSERT INTO pos_clients (name, secret_hash, allowed_sources, currency, min_cents, max_cents, reversals, enabled, created_at, created_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                """, arguments: [client.name, Data(SHA256.hash(data: Array(secret.utf8))), client.allowedSources.map(\.description).joined(separator: ","),
                                 client.currency, client.minimum.cents, client.maximum.cents, client.reversals ? 1 : 0, tx.now, actor.name])
            try tx.logPOSClient(client, change: "added", by: actor)
        }
        return secret
    }

    /// Enables or disables a client (supervisor with second factor): a disabled client's
    /// requests are refused like a wrong secret. Logged.
    public func setPOSClient(_ name: String, enabled: Bool, by actor: Actor) throws {
        try actor.require([.supervisor], to: "change point-of-sale clients", secondFactor: true)
        try write { tx in
            var client = try tx.posClient(name)
            guard client.enabled != enabled else { return }
            try tx.db.execute(sql: "UPDATE pos_clients SET enabled = ? WHERE name = ?", arguments: [enabled ? 1 : 0, name])
            client.enabled = enabled
            try tx.logPOSClient(client, change: enabled ? "enabled" : "disabled", by: actor)
        }
    }

    /// Gives a client a new secret (supervisor with second factor); the store refuses the old one at
    /// once, a running server within the 5 seconds it remembers credentials.
    public func renewPOSClientSecret(_ name: String, by actor: Actor) throws -> String {
        try actor.require([.supervisor], to: "change point-of-sale clients", secondFactor: true)
        let secret = Self.newPOSSecret()
        try write { tx in
            let client = try tx.posClient(name)
            try tx.db.execute(sql: "UPDATE pos_clients SET secret_hash = ? WHERE name = ?", arguments: [Data(SHA256.hash(data: Array(secret.utf8))), name])
            try tx.logPOSClient(client, change: "new-secret", by: actor)
        }
        return secret
    }

    /// Every point-of-sale client, by name (supervisors and auditors).
    public func posClients(by actor: Actor) throws -> [POSClient] {
        try actor.require([.supervisor, .auditor], to: "list point-of-sale clients")
        return try read { tx in
            try String.fetchAll(tx.db, sql: "SELECT name FROM pos_clients ORDER BY name").map { try tx.posClient($0) }
        }
    }

    /// The client a request's credentials name, if the secret is its own, the client is enabled
    /// and `source` is allowed; otherwise `pos-client-refused`, whichever check failed.
    public func authenticatePOSClient(name: String, secret: String, source: String) throws -> POSClient {
        // One query either way, so a known name and an unknown one cost the same work.
        let stored: (POSClient, Data)? = try read { tx in try tx.posClientWithSecret(name) }
        // The hash is compared even for an unknown name, so timing does not tell names apart.
        let given = Array(SHA256.hash(data: Array(secret.utf8)))
        let expected = stored.map { Array($0.1) } ?? [UInt8](repeating: 0, count: 32)
        var difference: UInt8 = expected.count == 32 ? 0 : 1
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        guard let (client, _) = stored, difference == 0, client.enabled,
              client.allowedSources.isEmpty || client.allowedSources.contains(where: { $0.admits(source) }) else {
            throw StationError.refused(.posClientRefused)
        }
        return client
    }

    static func newPOSSecret() -> String {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

extension StoreTransaction {
    func posClient(_ name: String) throws -> POSClient {
        guard let (client, _) = try posClientWithSecret(name) else { throw StationError.notFound("point-of-sale client \(name)") }
        return client
    }

    func posClientWithSecret(_ name: String) throws -> (POSClient, Data)? {
        guard let r = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT name, allowed_sources, currency, min_cents, max_cents, reversals, enabled, secret_hash FROM pos_clients WHERE name = ?
            """), arguments: [name]) else { return nil }
        let sources: String = r[1]
        guard let rules = try? SourceAddressRule.list(sources), let min = r[3] as Int64?, let max = r[4] as Int64?,
              (0...Money.maximumCents).contains(min), (min...Money.maximumCents).contains(max) else {
            throw StationError.tampered("point-of-sale client \(name): its limits or addresses are not possible values")
        }
        var c = POSClient(name: r[0], allowedSources: rules, currency: r[2], minimum: Money(cents: min), maximum: Money(cents: max),
                          reversals: (r[5] as Int64) != 0)
        c.enabled = (r[6] as Int64) != 0
        return (c, r[7])
    }

    func logPOSClient(_ c: POSClient, change: String, by actor: Actor) throws {
        try log(.posClient, actor: actor.name) { w in
            w.field("client", c.name)
            w.field("change", change)
            w.field("currency", c.currency)
            w.field("minimum", c.minimum.description)
            w.field("maximum", c.maximum.description)
            w.field("reversals", c.reversals)
            w.field("enabled", c.enabled)
            w.field("allowed_sources", c.allowedSources.map(\.description))
        }
    }
}
