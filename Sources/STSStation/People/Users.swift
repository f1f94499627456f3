import Crypto
import Foundation
import GRDB
import STSAuditLog

extension Station {
    /// Creates a new station file: its schema, its Ed25519 signing key (the public half goes to
    /// `PATH.pub`), its key-encryption key (`PATH.kek` unless `kekPath` names an existing file)
    /// and its first supervisor. Returns the station and the supervisor's TOTP secret.
    public static func create(path: String, name: String = "station", admin: String, password: [UInt8],
                              kekPath: String? = nil, now: Int64 = Int64(Date().timeIntervalSince1970),
                              passwordCost: Int = 15) throws -> (Station, totpSecret: [UInt8]) {
        guard !FileManager.default.fileExists(atPath: path) else { throw StationError.alreadyExists("station database \(path)") }
        guard password.count >= 8 else { throw StationError.invalid("a password needs at least 8 characters") }
        try validateUserName(admin)
        var salt = [UInt8](repeating: 0, count: 16)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = g.next() }
        let kekFile = kekPath ?? path + ".kek"
        let kek = FileManager.default.fileExists(atPath: kekFile)
            ? try KeyEncryptionKey.load(path: kekFile, salt: salt)
            : try KeyEncryptionKey.generate(writingTo: kekFile)
        let signingKey = Curve25519.Signing.PrivateKey()
        let stationID = UUID().uuidString.lowercased()
        let db = try connect(path)
        try StationSchema.migrator.migrate(db)
        let station = Station(path: path, db: db, kek: kek, signingKey: signingKey, stationID: stationID)
        station.now = { now }
        var totp = [UInt8](repeating: 0, count: 20)
        for i in totp.indices { totp[i] = g.next() }
        let passwordHash = try PasswordHash.make(password, logN: passwordCost)
        let secret = totp
        try station.write { tx in
            try tx.db.execute(sql: """
                INSERT INTO station (id, station_id, name, created_at, kdf_salt, kek_check, signing_key, public_key)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [stationID, name, now, Data(salt),
                                 Data(try kek.seal(Array("ok".utf8), purpose: "kek-check:\(stationID)")),
                                 Data(try kek.seal(Array(signingKey.rawRepresentation), purpose: "station-signing-key:\(stationID)")),
                                 signingKey.publicKey.rawRepresentation])
            try tx.log("station", actor: admin) { w in
                w.field("station_id", stationID)
                w.field("name", name)
                w.field("public_key", signingKey.publicKey.rawRepresentation.base64EncodedString())
            }
            try tx.insertUser(name: admin, role: .supervisor, passwordHash: passwordHash, totpSecret: secret)
            try tx.log("user", actor: admin) { w in
                w.field("action", "add")
                w.field("name", admin)
                w.field("role", Role.supervisor.rawValue)
            }
            tx.forceSeal = true
        }
        try PrivateFile.create(path + ".pub", contents: Array(StationPublicKeyFile.text(signingKey.publicKey).utf8))
        station.now = { Int64(Date().timeIntervalSince1970) }
        return (station, totp)
    }

    static func validateUserName(_ name: String) throws(StationError) {
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 34 && $0 != 92 }) else {
            throw .invalid("a user name is 1–64 printable characters without spaces or quotes")
        }
    }

    /// Checks a user's password (and second-factor code, when given) and returns who acts. A
    /// failure is logged (`login_failure`) and committed before the error is thrown, and the
    /// error never says which part failed. A TOTP code is accepted once.
    public func authenticate(user: String, password: [UInt8], totp: String? = nil, action: String) throws -> Actor {
        let row = try read { tx in try Row.fetchOne(tx.db, sql: "SELECT role, password, totp_secret, totp_last_step, active FROM users WHERE name = ?", arguments: [user]) }
        var ok = false
        var role = Role.auditor
        var step: Int64?
        if let row {
            role = Role(rawValue: row["role"]) ?? .auditor
            ok = PasswordHash.verify(password, against: row["password"]) && (row["active"] as Int64) == 1
            if ok, let totp {
                var secret = try kek.open(row["totp_secret"] as Data, purpose: "totp:\(user)")
                defer { for i in secret.indices { secret[i] = 0 } }
                step = TOTP(secret: secret).matchingStep(totp, atUnixSeconds: now())
                if step == nil || step! <= (row["totp_last_step"] as Int64) { ok = false }
            }
        } else {
            _ = PasswordHash.verify(password, against: "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        }
        guard ok else {
            try write { tx in
                try tx.log("login_failure", actor: user) { w in w.field("action", action) }
            }
            throw StationError.authenticationFailed
        }
        if let step {
            // Single use: a code seen once is not accepted again, even inside its window.
            let used = try write { tx in
                try tx.db.execute(sql: "UPDATE users SET totp_last_step = ? WHERE name = ? AND totp_last_step < ?", arguments: [step, user, step])
                return tx.db.changesCount == 1
            }
            guard used else { throw StationError.authenticationFailed }
        }
        return Actor(name: user, role: role, secondFactor: step != nil)
    }

    /// Adds a user (supervisor only); returns their TOTP secret to enrol in an authenticator.
    public func addUser(name: String, role: Role, password: [UInt8], by actor: Actor, passwordCost: Int = 15) throws -> [UInt8] {
        // A new supervisor gets a second factor of their own, so adding one needs the second factor too.
        try actor.require([.supervisor], to: "add users", secondFactor: true)
        try Self.validateUserName(name)
        guard password.count >= 8 else { throw StationError.invalid("a password needs at least 8 characters") }
        var totp = [UInt8](repeating: 0, count: 20)
        var g = SystemRandomNumberGenerator()
        for i in totp.indices { totp[i] = g.next() }
        let hash = try PasswordHash.make(password, logN: passwordCost)
        let secret = totp
        try write { tx in
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [name]) == nil else {
                throw StationError.alreadyExists("user \(name)")
            }
            try tx.insertUser(name: name, role: role, passwordHash: hash, totpSecret: secret)
            try tx.log("user", actor: actor.name) { w in
                w.field("action", "add")
                w.field("name", name)
                w.field("role", role.rawValue)
            }
            tx.forceSeal = true
        }
        return totp
    }

    /// Disables a user (supervisor only); their past entries stay.
    public func disableUser(name: String, by actor: Actor) throws {
        try actor.require([.supervisor], to: "disable users")
        try write { tx in
            try tx.db.execute(sql: "UPDATE users SET active = 0 WHERE name = ?", arguments: [name])
            guard tx.db.changesCount == 1 else { throw StationError.notFound("user \(name)") }
            try tx.log("user", actor: actor.name) { w in
                w.field("action", "disable")
                w.field("name", name)
            }
            tx.forceSeal = true
        }
    }
}

extension StoreTransaction {
    func insertUser(name: String, role: Role, passwordHash: String, totpSecret: [UInt8]) throws {
        try db.execute(sql: "INSERT INTO users (name, role, password, totp_secret, created_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [name, role.rawValue, passwordHash, Data(try station.kek.seal(totpSecret, purpose: "totp:\(name)")), now])
    }
}
