import Foundation
import STSCrypto
import STSTokenFormat
import STSVending
import STSAuditLog

/// What a vending key is for: the supply group, tariff index, revision and type it derives
/// decoder keys under, their base date, algorithms and expiry (the one `KeyAttributes` bundle of STSCrypto).
public typealias VendingKeyAttributes = KeyAttributes

struct CachedVendingKey {
    let key: VendingKey
    let attributes: VendingKeyAttributes
}

extension Station {
    /// Imports a vending key (supervisor with second factor). The key is stored only encrypted
    /// under the key-encryption key; the log records its attributes, never its bytes.
    /// Imports a vending key; returns a warning when the key can no longer issue tokens (it is
    /// still imported: key changes away from it need it).
    @discardableResult
    public func importKey(name: String, bytes: [UInt8], attributes a: VendingKeyAttributes, by actor: Actor) throws -> String? {
        try actor.require([.supervisor], to: "import vending keys", secondFactor: true)
        guard !name.isEmpty, name.utf8.count <= 64 else { throw StationError.invalid(.keyName, "a key name is 1–64 characters") }
        let key = try VendingKey(bytes: bytes)
        // Derive once to prove the key fits its algorithm before it is stored.
        _ = try a.meter(try MeterPAN(meterNumber: "600727000000000009")).decoderKey(vendingKey: key)
        try write { tx in
            try tx.requireCurrentKEK()
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM vending_keys WHERE name = ?", arguments: [name]) == nil else {
                throw StationError.alreadyExists("vending key \(name)")
            }
            try tx.db.execute(sql: """
                INSERT INTO vending_keys (name, sealed, dkga, ea, base_date, sgc, krn, kt, ti, ken, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, Data(try kek.seal(bytes, purpose: "vending-key:\(name)")), Int(a.derivation.rawValue),
                                 Int(a.encryption.rawValue), a.baseDate.year, a.supplyGroup.description, Int(a.revision.value),
                                 Int(a.keyType.rawValue), Int(a.tariffIndex.value), Int(a.expiry.value), tx.now])
            try tx.log(.keyImport, actor: actor.name) { w in
                w.field("name", name)
                w.field("bits", bytes.count * 8)
                w.field("dkga", Int(a.derivation.rawValue))
                w.field("ea", Int(a.encryption.rawValue))
                w.field("base_date", a.baseDate.year)
                w.field("sgc", a.supplyGroup.description)
                w.field("krn", Int(a.revision.value))
                w.field("kt", Int(a.keyType.rawValue))
                w.field("ti", Int(a.tariffIndex.value))
                w.field("ken", Int(a.expiry.value))
            }
            tx.forceSeal = true
        }
        return KeyExpiry.warning(name: name, a, now: now())
    }

    /// A vending key, decrypted once per process.
    func vendingKey(_ name: String, _ tx: StoreTransaction) throws -> CachedVendingKey {
        if let k = cached({ vendingKeyCache[name] }) { return k }
        guard let row = try Row.fetchOne(tx.db.cachedStatement(sql: "SELECT * FROM vending_keys WHERE name = ?"), arguments: [name]) else {
            throw StationError.notFound("vending key \(name)")
        }
        var bytes = try kek.open(row["sealed"] as Data, purpose: "vending-key:\(name)")
        defer { for i in bytes.indices { bytes[i] = 0 } }
        let attributes = VendingKeyAttributes(
            derivation: try KeyDerivationAlgorithm(code: row["dkga"]), encryption: try EncryptionAlgorithm(code: row["ea"]),
            baseDate: try BaseDate(year: row["base_date"]), supplyGroup: try SupplyGroupCode(row["sgc"] as String),
            revision: try KeyRevisionNumber(row["krn"]), keyType: try KeyType(row["kt"]), tariffIndex: try TariffIndex(row["ti"]),
            expiry: try KeyExpiryNumber(row["ken"]))
        let opened = CachedVendingKey(key: try VendingKey(bytes: bytes), attributes: attributes)
        cached { vendingKeyCache[name] = opened }
        return opened
    }

    /// Vending keys with their attributes and how long they last (no key bytes).
    public func keys() throws -> [(name: String, attributes: VendingKeyAttributes, expires: String, warning: String?)] {
        try read { tx in
            try String.fetchAll(tx.db, sql: "SELECT name FROM vending_keys ORDER BY name").map { name in
                let k = try vendingKey(name, tx)
                return (name, k.attributes, KeyExpiry.lastMinute(k.attributes), KeyExpiry.warning(name: name, k.attributes, now: tx.now))
            }
        }
    }
}

/// How long a key can issue tokens: until its KEN runs out, and in any case until its base
/// date's 24-bit TID (minutes) runs out — 31.9 years after the base date, so keys on base date
/// 1993 stopped on 2024-11-24 and must be changed to a newer base date (a key-change campaign).
public enum KeyExpiry {
    /// Minutes after the base date at which the KEN stops tokens.
    static func endMinute(_ a: VendingKeyAttributes) -> Int64 { (Int64(a.expiry.value) + 1) << 16 }

    static func unixSeconds(minute: Int64, baseDate: BaseDate) -> Int64 {
        Int64(CivilTime.daysFromCivil(year: baseDate.year, month: 1, day: 1)) * 86_400 + minute * 60
    }

    /// The last moment the key can issue a token: its KEN's end or its last TID, whichever is first.
    public static func issuingEnds(_ a: VendingKeyAttributes) -> Int64 {
        // Both ends are the first minute no token may carry.
        let tidEnd = unixSeconds(minute: Int64(TokenIdentifier.maximum) + 1, baseDate: a.baseDate)
        return a.expiry.value == 255 ? tidEnd : min(tidEnd, unixSeconds(minute: endMinute(a), baseDate: a.baseDate))
    }

    /// Whether the key's TIDs (rather than its KEN) end it.
    static func endsByTID(_ a: VendingKeyAttributes) -> Bool {
        a.expiry.value == 255 || unixSeconds(minute: Int64(TokenIdentifier.maximum) + 1, baseDate: a.baseDate) <= unixSeconds(minute: endMinute(a), baseDate: a.baseDate)
    }

    static func lastMinute(_ a: VendingKeyAttributes) -> String {
        AuditTime.format(issuingEnds(a)) + (endsByTID(a) ? " (its 24-bit TIDs run out)" : " (KEN \(a.expiry.value))")
    }

    /// Days left before the key stops issuing at `now` (negative once it has).
    static func daysLeft(_ a: VendingKeyAttributes, now: Int64) -> Int64? {
        let (d, o) = issuingEnds(a).subtractingReportingOverflow(now)
        return o ? nil : d / 86_400
    }

    /// What an operator must hear about a key at `now`: nothing, or that it can no longer issue
    /// tokens and what to do.
    public static func warning(name: String, _ a: VendingKeyAttributes, now: Int64) -> String? {
        guard issuingEnds(a) <= now else { return nil }
        let why = endsByTID(a) ? "its base date \(a.baseDate.year) ran out of 24-bit TIDs on" : "its KEN \(a.expiry.value) expired on"
        let remedy = endsByTID(a) ? "a key on a newer base date" : "a new key"
        return "vending key \(name) can no longer issue tokens: \(why) \(AuditTime.format(issuingEnds(a))); move its meters to \(remedy) with a key-change campaign (stsvend campaign start)"
    }
}
