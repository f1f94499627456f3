import Foundation
import STSCard
import STSSupport

/// The card issuer key a station writes and verifies user cards with, decrypted once per process.
struct CachedCardIssuer {
    let name: String
    let key: IssuerMasterKey
    let issuerID: UInt32
}

extension Station {
    /// Imports a card issuer key (AES-128, supervisor with second factor). Stored only encrypted
    /// under the key-encryption key; the log records its name and issuer number, never its bytes.
    /// The most recently imported issuer key is the one the station issues and sells cards with.
    public func importCardIssuerKey(name: String, bytes: [UInt8], issuerID: UInt32 = 1, by actor: Actor) throws {
        try actor.require([.supervisor], to: "import card issuer keys", secondFactor: true)
        guard !name.isEmpty, name.utf8.count <= 64 else { throw StationError.invalid(.keyName, "a key name is 1–64 characters") }
        do { _ = try IssuerMasterKey(bytes: bytes) } catch { throw StationError.invalid(.cardKey, error.description) }
        try write { tx in
            try tx.requireCurrentKEK()
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM card_issuer_keys WHERE name = ?", arguments: [name]) == nil else {
                throw StationError.alreadyExists("card issuer key \(name)")
            }
            try tx.db.execute(sql: "INSERT INTO card_issuer_keys (name, sealed, issuer_id, created_at) VALUES (?, ?, ?, ?)",
                              arguments: [name, Data(try kek.seal(bytes, purpose: "card-issuer-key:\(name)")), Int64(issuerID), tx.now])
            try tx.log(.cardKeyImport, actor: actor.name) { w in
                w.field("name", name)
                w.field("issuer", Int(issuerID))
            }
            tx.forceSeal = true
        }
        cached { cardIssuerCache = nil }
    }

    /// The station's current card issuer key (the one imported last), or the key named.
    func cardIssuer(_ tx: StoreTransaction, named: String? = nil) throws -> CachedCardIssuer {
        // The latest key's name is read every time: another station of a shared store may have imported one.
        let latest = tx.db.dialect == .sqlite ? "ORDER BY created_at DESC, rowid DESC LIMIT 1" : "ORDER BY created_at DESC, name DESC LIMIT 1"
        let current = try named ?? String.fetchOne(tx.db, sql: "SELECT name FROM card_issuer_keys \(latest)")
        if named == nil, let c = cached({ cardIssuerCache }), c.name == current { return c }
        let found = try current.map {
            try Row.fetchOne(tx.db, sql: "SELECT name, sealed, issuer_id FROM card_issuer_keys WHERE name = ?", arguments: [$0])
        } ?? nil
        guard let row = found else { throw StationError.refused(.noCardIssuerKey) }
        let name: String = row["name"]
        var bytes = try kek.open(row["sealed"] as Data, purpose: "card-issuer-key:\(name)")
        defer { for i in bytes.indices { bytes[i] = 0 } }
        guard let id = row["issuer_id"] as Int64?, let issuerID = UInt32(exactly: id) else {
            throw StationError.tampered("card issuer key \(name): its issuer number is not a 32-bit value")
        }
        let key: IssuerMasterKey
        do { key = try IssuerMasterKey(bytes: bytes) } catch { throw StationError.tampered("card issuer key \(name) is not an AES-128 key") }
        let issuer = CachedCardIssuer(name: name, key: key, issuerID: issuerID)
        if named == nil { cached { cardIssuerCache = issuer } }
        return issuer
    }

    /// The issuer key a presented card was issued with: the one recorded for its serial when the
    /// station holds several (a card issued before a newer key was imported keeps its own), else
    /// the current one. Reads the card's serial only when there is a choice to make.
    func cardIssuer<C: CardChannel>(for session: inout CardSession<C>) throws -> CachedCardIssuer {
        let (current, several) = try read { tx in
            (try cardIssuer(tx), (try Int.fetchOne(tx.db, sql: "SELECT COUNT(*) FROM card_issuer_keys") ?? 0) > 1)
        }
        guard several else { return current }
        let serial = serialText(try cardStep("reading the card serial") { try session.open() })
        return try read { tx in
            guard let name = try String.fetchOne(tx.db, sql: "SELECT issuer_key FROM cards WHERE serial = ?", arguments: [serial]) else { return current }
            return try cardIssuer(tx, named: name)
        }
    }

    /// The number this station writes into purchase records: the first 32 bits of its id.
    var cardStationNumber: UInt32 {
        UInt32(stationID.prefix(8), radix: 16) ?? 1
    }
}

/// A card serial as text: 16 upper-case hex digits.
func serialText(_ serial: [UInt8]) -> String { Hex.upper(serial) }
