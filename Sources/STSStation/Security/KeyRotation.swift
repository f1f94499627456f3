import Foundation

/// What a key-encryption key rotation sealed again.
public struct KEKRotation: Sendable {
    /// Sealed secrets moved to the new key: the station's signing key, the KEK check, every
    /// vending key, card issuer key and second-factor secret.
    public var secrets: Int
    /// Whether the new key-encryption key file was made by the rotation (``Station/rotateKeyEncryptionKey(creatingIfMissing:by:)``).
    public var created = false
}

extension Station {
    /// Rotates to the key in `newKEKPath` (``rotateKeyEncryptionKey(newKEKPath:by:)``), first
    /// creating that file with a random key (mode 0600) when it does not exist. A file made here
    /// is removed again when the rotation fails, so no key that seals nothing is left behind.
    public func rotateKeyEncryptionKey(creatingIfMissing newKEKPath: String, by actor: Actor) throws -> KEKRotation {
        let created = !FileManager.default.fileExists(atPath: newKEKPath)
        if created { _ = try KeyEncryptionKey.generate(writingTo: newKEKPath) }
        var rotation: KEKRotation
        do { rotation = try rotateKeyEncryptionKey(newKEKPath: newKEKPath, by: actor) } catch {
            // Removed only while the old key still opens the station: a rotation that committed
            // despite the error needs this file.
            if created, (try? read({ tx in try tx.requireCurrentKEK() })) != nil { unlink(newKEKPath) }
            throw error
        }
        rotation.created = created
        return rotation
    }

    /// Replaces the key-encryption key (supervisor with second factor): every secret the station
    /// keeps sealed is opened with the current key and sealed again under the key in `newKEKPath`
    /// (64 hex digits, or a passphrase stretched with a fresh salt), in one transaction, logged
    /// (`kek_rotation`, no key material). Afterwards the station opens only with the new file.
    public func rotateKeyEncryptionKey(newKEKPath: String, by actor: Actor) throws -> KEKRotation {
        try actor.require([.supervisor], to: "rotate the key-encryption key", secondFactor: true)
        var salt = [UInt8](repeating: 0, count: 16)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = g.next() }
        let newKEK = try KeyEncryptionKey.load(path: newKEKPath, salt: salt)
        // The same key material would "rotate" nothing while looking done.
        if let check = try? read({ tx in try Data.fetchOne(tx.db, sql: "SELECT kek_check FROM station WHERE station_id = ?", arguments: [stationID]) }) ?? nil,
           (try? newKEK.open(check, purpose: "kek-check:\(stationID)")) != nil {
            throw StationError.refused(.sameKeyEncryptionKey)
        }
        let rotation = try write { tx in
            var count = 0
            func reseal(_ sealed: Data, _ purpose: String) throws -> Data {
                var plain = try kek.open(sealed, purpose: purpose)
                defer { for i in plain.indices { plain[i] = 0 } }
                count += 1
                return Data(try newKEK.seal(plain, purpose: purpose))
            }
            // Every station of a shared store: they all open with the one key-encryption key.
            let stations = try Row.fetchAll(tx.db, sql: "SELECT station_id, kek_check, signing_key FROM station")
            guard !stations.isEmpty else { throw StationError.store("the station row is missing") }
            for row in stations {
                let id: String = row["station_id"]
                let check = try reseal(row["kek_check"], "kek-check:\(id)")
                let signing = try reseal(row["signing_key"], "station-signing-key:\(id)")
                try tx.db.execute(sql: "UPDATE station SET kdf_salt = ?, kek_check = ?, signing_key = ? WHERE station_id = ?",
                                  arguments: [Data(salt), check, signing, id])
            }
            for r in try Row.fetchAll(tx.db, sql: "SELECT name, sealed FROM vending_keys") {
                let name: String = r["name"]
                try tx.db.execute(sql: "UPDATE vending_keys SET sealed = ? WHERE name = ?", arguments: [try reseal(r["sealed"], "vending-key:\(name)"), name])
            }
            for r in try Row.fetchAll(tx.db, sql: "SELECT pan, sealed FROM meter_links") {
                let pan: String = r["pan"]
                try tx.db.execute(sql: "UPDATE meter_links SET sealed = ? WHERE pan = ?", arguments: [try reseal(r["sealed"], "meter-link:\(pan)"), pan])
            }
            for r in try Row.fetchAll(tx.db, sql: "SELECT name, sealed FROM card_issuer_keys") {
                let name: String = r["name"]
                try tx.db.execute(sql: "UPDATE card_issuer_keys SET sealed = ? WHERE name = ?", arguments: [try reseal(r["sealed"], "card-issuer-key:\(name)"), name])
            }
            for r in try Row.fetchAll(tx.db, sql: "SELECT name, totp_secret FROM users") {
                let name: String = r["name"]
                try tx.db.execute(sql: "UPDATE users SET totp_secret = ? WHERE name = ?", arguments: [try reseal(r["totp_secret"], "totp:\(name)"), name])
            }
            try tx.log(.kekRotation, actor: actor.name) { w in w.field("secrets", count) }
            tx.forceSeal = true
            return KEKRotation(secrets: count)
        }
        // From now on this object seals and opens under the new key, as the file does.
        kek = newKEK
        return rotation
    }
}
