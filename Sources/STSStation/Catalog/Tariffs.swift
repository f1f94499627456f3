import Foundation
import STSBatch
import STSTariff

extension Station {
    /// Sets (or replaces) a tariff (supervisor with second factor). Every version is kept; a
    /// sale uses the latest version of its meter's tariff and records which.
    @discardableResult
    public func setTariff(_ tariff: Tariff, by actor: Actor) throws -> Int {
        try actor.require([.supervisor], to: "change tariffs", secondFactor: true)
        let definition = String(decoding: try JSONEncoder.sorted.encode(tariff), as: UTF8.self)
        return try write { tx in
            let last = try Int.fetchOne(tx.db, sql: "SELECT MAX(version) FROM tariffs WHERE name = ?", arguments: [tariff.name]) ?? 0
            guard (0..<1_000_000).contains(last) else { throw StationError.tampered("tariff \(tariff.name) has an impossible version \(last)") }
            let version = last + 1
            try tx.db.execute(sql: "INSERT INTO tariffs (name, version, definition, created_at) VALUES (?, ?, ?, ?)",
                              arguments: [tariff.name, version, definition, tx.now])
            try tx.log(.tariff, actor: actor.name) { w in
                w.field("name", tariff.name)
                w.field("version", version)
                w.rawText("tariff", Array(definition.utf8))
            }
            tx.forceSeal = true
            return version
        }
    }

    /// The latest version of a tariff and its number.
    func tariff(_ name: String, _ tx: StoreTransaction) throws -> (Tariff, Int) {
        guard let row = try Row.fetchOne(tx.db.cachedStatement(sql: "SELECT version, definition FROM tariffs WHERE name = ? ORDER BY version DESC LIMIT 1"),
                                         arguments: [name]) else {
            throw StationError.notFound("tariff \(name)")
        }
        let text: String = row[1]
        do { return (try JSONDecoder().decode(Tariff.self, from: Data(text.utf8)), row[0]) } catch {
            throw StationError.tampered("tariff \(name) as stored is not a valid tariff (\(error is TariffError ? "\(error)" : "malformed"))")
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
