import Crypto
import Foundation
import STSAuditLog

extension Station {
    /// Creates a new station file: its schema, its Ed25519 signing key (the public half goes to
    /// `PATH.pub`), its key-encryption key (`PATH.kek` unless `kekPath` names an existing file)
    /// and its first supervisor. Returns the station and the supervisor's TOTP secret.
    /// Creates a station: `PATH` (SQLite), `PATH.pub`, the key-encryption key file (unless it
    /// exists) and the first supervisor. All or nothing: when any step fails, every file it
    /// made is removed, so the command can simply be run again. Every file is created owner-only
    /// (0600) whatever the umask; SQLite gives the `-wal` and `-shm` files the database's mode.
    /// A `testClock` station takes its time from STSVEND_NOW (scripted tests); any other refuses it.
    public static func create(path: String, name: String = "station", admin: String, password: [UInt8],
                              kekPath: String? = nil, now: Int64 = Int64(Date().timeIntervalSince1970),
                              passwordCost: Int = 15, testClock: Bool = false, databasePasswordFile: String? = nil,
                              publicKeyOut: String? = nil) throws -> (Station, totpSecret: [UInt8]) {
        let shared = PostgresLocation.isURL(path)
        if !shared {
            guard !FileManager.default.fileExists(atPath: path) else { throw StationError.alreadyExists("station database \(path)") }
        }
        guard password.count >= 8 else { throw StationError.invalid(.password, "a password needs at least 8 characters") }
        try validateUserName(admin)
        // A station of a shared store is named on the command line and names its public key file.
        if shared { try validateStationName(name) }
        var created: [String] = []
        do {
            return try create(path: path, name: name, admin: admin, password: password, kekPath: kekPath, now: now,
                              passwordCost: passwordCost, testClock: testClock, databasePasswordFile: databasePasswordFile,
                              publicKeyOut: publicKeyOut, created: &created)
        } catch {
            for file in created.reversed() { unlink(file) }
            throw error
        }
    }

    /// Where a new station's public key goes: `PATH.pub` beside an SQLite file, `NAME.pub` in the
    /// current folder for a station of a PostgreSQL database.
    public static func publicKeyPath(database: String, name: String) -> String {
        PostgresLocation.isURL(database) ? name + ".pub" : database + ".pub"
    }

    private static func create(path: String, name: String, admin: String, password: [UInt8], kekPath: String?, now: Int64,
                               passwordCost: Int, testClock: Bool, databasePasswordFile: String?, publicKeyOut: String?,
                               created: inout [String]) throws -> (Station, totpSecret: [UInt8]) {
        var salt = [UInt8](repeating: 0, count: 16)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = g.next() }
        let store: StationStore
        let displayPath: String
        if PostgresLocation.isURL(path) {
            let location = try PostgresLocation(url: path)
            let pg = try PostgresStore(location: location, passwordFile: databasePasswordFile)
            do {
                try pg.migrate()
                let existing = try pg.withConnection { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM station") } ?? 0
                guard existing == 0 else {
                    pg.close()
                    throw StationError.alreadyExists("a station database at \(location.displayURL) (add stations to it with 'stsvend station add')")
                }
            } catch let e as StoreDBError {
                pg.close()
                throw StationError.store(StoreFailure.describe(e))
            }
            store = .postgres(pg)
            displayPath = location.displayURL
        } else {
            try PrivateFile.create(path, contents: [])
            created += [path, path + "-wal", path + "-shm", path + "-journal"]
            let db = try connect(path)
            try migrate(db)
            store = .sqlite(db)
            displayPath = path
        }
        let kekFile = kekPath ?? defaultKEKPath(for: path)
        let kek: KeyEncryptionKey
        if FileManager.default.fileExists(atPath: kekFile) {
            kek = try KeyEncryptionKey.load(path: kekFile, salt: salt)
        } else {
            kek = try KeyEncryptionKey.generate(writingTo: kekFile)
            created.append(kekFile)
        }
        let signingKey = Curve25519.Signing.PrivateKey()
        let stationID = UUID().uuidString.lowercased()
        let station = Station(path: displayPath, store: store, kek: kek, signingKey: signingKey, stationID: stationID)
        station.name = name
        station.testClock = testClock
        station.now = { now }
        var totp = [UInt8](repeating: 0, count: 20)
        for i in totp.indices { totp[i] = g.next() }
        let passwordHash = try PasswordHash.make(password, logN: passwordCost)
        let secret = totp
        let pubPath = publicKeyOut ?? publicKeyPath(database: path, name: name)
        guard !FileManager.default.fileExists(atPath: pubPath) else { throw StationError.alreadyExists("public key file \(pubPath)") }
        try station.write { tx in
            try tx.insertStationRow(stationID: stationID, name: name, now: now, salt: salt, kek: kek, signingKey: signingKey, testClock: testClock)
            try tx.log(.station, actor: admin) { w in
                w.field("station_id", stationID)
                w.field("name", name)
                w.field("public_key", signingKey.publicKey.rawRepresentation.base64EncodedString())
                if testClock { w.field("clock", "test") }
            }
            try tx.insertUser(name: admin, role: .supervisor, passwordHash: passwordHash, totpSecret: secret)
            try tx.log(.user, actor: admin) { w in
                w.field("action", "add")
                w.field("name", admin)
                w.field("role", Role.supervisor.rawValue)
            }
            tx.forceSeal = true
        }
        try PrivateFile.create(pubPath, contents: Array(StationPublicKeyFile.text(signingKey.publicKey).utf8))
        created.append(pubPath)
        station.now = { Int64(Date().timeIntervalSince1970) }
        return (station, totp)
    }

    /// Adds another station to a shared (PostgreSQL) store (supervisors, with the second factor):
    /// its own Ed25519 signing key, sealed under the store's key-encryption key, and its own log
    /// chain, which starts with a `station` entry; the adding station logs the addition too. The
    /// public half goes to `publicKeyOut` (0600; hand it to auditors). Returns the new station's id.
    public func addStation(name: String, publicKeyOut: String, by actor: Actor) throws -> String {
        try actor.require([.supervisor], to: "add a station", secondFactor: true)
        guard isShared else { throw StationError.refused(.stationsNeedSharedStore) }
        try Self.validateStationName(name)
        guard !FileManager.default.fileExists(atPath: publicKeyOut) else { throw StationError.alreadyExists("public key file \(publicKeyOut)") }
        let signingKey = Curve25519.Signing.PrivateKey()
        let id = UUID().uuidString.lowercased()
        let salt: [UInt8] = try read { tx in
            guard let s = try Data.fetchOne(tx.db, sql: "SELECT kdf_salt FROM station WHERE station_id = ?", arguments: [stationID]) else {
                throw StationError.store("the station row is missing")
            }
            return Array(s)
        }
        let newStation = Station(path: path, store: store, kek: kek, signingKey: signingKey, stationID: id)
        newStation.name = name
        newStation.now = now
        try write { tx in
            if try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM station WHERE name = ?", arguments: [name]) == true {
                throw StationError.alreadyExists("station \(name)")
            }
            try tx.requireCurrentKEK()
            try tx.insertStationRow(stationID: id, name: name, now: tx.now, salt: salt, kek: kek, signingKey: signingKey, testClock: testClock)
            try tx.log(.stationAdd, actor: actor.name) { w in
                w.field("station_id", id)
                w.field("name", name)
                w.field("public_key", signingKey.publicKey.rawRepresentation.base64EncodedString())
            }
            tx.forceSeal = true
            // The new station's chain begins in the same transaction, on the same connection.
            let first = StoreTransaction(db: tx.db, station: newStation)
            try first.log(.station, actor: actor.name) { w in
                w.field("station_id", id)
                w.field("name", name)
                w.field("public_key", signingKey.publicKey.rawRepresentation.base64EncodedString())
                w.field("added_by_station", stationID)
            }
            try first.seal()
        }
        try PrivateFile.create(publicKeyOut, contents: Array(StationPublicKeyFile.text(signingKey.publicKey).utf8))
        return id
    }

    static func validateStationName(_ name: String) throws(StationError) {
        guard (1...64).contains(name.utf8.count),
              name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 || $0 == 46 }),
              name.first != "." else {
            throw .invalid(.stationName, "a station name is 1–64 letters, digits, '-', '_' or '.' (it names its files), not starting with '.'")
        }
    }

    static func validateUserName(_ name: String) throws(StationError) {
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 34 && $0 != 92 }) else {
            throw .invalid(.userName, "a user name is 1–64 printable characters without spaces or quotes")
        }
        // The log names a point-of-sale client as the actor "pos:NAME": no user may look like one.
        guard !name.hasPrefix("pos:") else { throw .invalid(.userName, "user names beginning with \"pos:\" are reserved for point-of-sale clients") }
    }

    /// Checks a user's password (and second-factor code, when given) and returns who acts. A
    /// failure is logged (`login_failure`) and committed before the error is thrown, and the
    /// error never says which part failed. A TOTP code is accepted once. Failures in a row are
    /// throttled per name (``LoginThrottle``): a locked name is refused without checking anything.
    public func authenticate(user: String, password: [UInt8], totp: String? = nil, action: String,
                             source: String = LoginThrottle.localSource) throws -> Actor {
        // The code is checked against the time it was given, not the time the password hash
        // finished: scrypt takes seconds in a debug build, long enough to cross a 30 s step.
        let givenAt = now()
        // The attempt is counted before the password is checked, in one write transaction with
        // the lock check, so attempts running at the same time are all counted and none passes a
        // lock another one set; a success takes the count back.
        let attempt: LoginThrottle.State? = try write { tx in
            let t = try tx.throttle(name: user, source: source)
            if t.lockedUntil > tx.now {
                try tx.log(.loginFailure, actor: user) { w in w.field("action", action); w.field("locked", true) }
                return nil
            }
            return try tx.countLoginAttempt(name: user, source: source, current: t)
        }
        guard let attempt else {
            let until = try read { tx in try tx.throttle(name: user, source: source) }.lockedUntil
            throw StationError.loginLocked(until: AuditTime.format(until))
        }
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
                step = TOTP(secret: secret).matchingStep(totp, atUnixSeconds: givenAt)
                if let s = step, s > (row["totp_last_step"] as Int64) {} else { ok = false }
            }
        } else {
            _ = PasswordHash.verify(password, against: "scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        }
        if ok, let step {
            // Single use: a code seen once is not accepted again, even inside its window.
            ok = try write { tx in
                try tx.db.execute(sql: "UPDATE users SET totp_last_step = ? WHERE name = ? AND totp_last_step < ?", arguments: [step, user, step])
                return tx.db.changesCount == 1
            }
        }
        guard ok else {
            try write { tx in
                try tx.log(.loginFailure, actor: user) { w in w.field("action", action) }
                if attempt.lockedUntil > 0, attempt.failures >= Int64(LoginThrottle.threshold) {
                    try tx.log(.loginLockout, actor: user) { w in
                        w.field("name", user)
                        w.field("source", source)
                        w.field("failures", Int(attempt.failures))
                        w.field("until", AuditTime.format(attempt.lockedUntil))
                    }
                }
            }
            throw StationError.authenticationFailed
        }
        try write { tx in try tx.clearThrottle(name: user, source: source) }
        return Actor(name: user, role: role, secondFactor: step != nil)
    }

    /// Lifts a name's login lock and failure count (supervisors).
    public func unlockUser(name: String, by actor: Actor) throws {
        try actor.require([.supervisor], to: "unlock users")
        try write { tx in
            guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [name]) != nil else { throw StationError.notFound("user \(name)") }
            try tx.db.execute(sql: "DELETE FROM login_throttle WHERE name = ?", arguments: [name])
            try tx.log(.user, actor: actor.name) { w in
                w.field("action", "unlock")
                w.field("name", name)
            }
        }
    }

    /// Adds a user (supervisor only); returns their TOTP secret to enrol in an authenticator.
    public func addUser(name: String, role: Role, password: [UInt8], by actor: Actor, passwordCost: Int = 15) throws -> [UInt8] {
        // A new supervisor gets a second factor of their own, so adding one needs the second factor too.
        try actor.require([.supervisor], to: "add users", secondFactor: true)
        try Self.validateUserName(name)
        guard password.count >= 8 else { throw StationError.invalid(.password, "a password needs at least 8 characters") }
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
            try tx.log(.user, actor: actor.name) { w in
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
        // A supervisor disabling themselves could leave the station with no one to run it.
        guard name != actor.name else { throw StationError.refused(.disableSelf) }
        try write { tx in
            try tx.db.execute(sql: "UPDATE users SET active = 0 WHERE name = ?", arguments: [name])
            guard tx.db.changesCount == 1 else { throw StationError.notFound("user \(name)") }
            try tx.log(.user, actor: actor.name) { w in
                w.field("action", "disable")
                w.field("name", name)
            }
            tx.forceSeal = true
        }
    }
}

extension StoreTransaction {
    func insertUser(name: String, role: Role, passwordHash: String, totpSecret: [UInt8]) throws {
        try requireCurrentKEK()
        try db.execute(sql: "INSERT INTO users (name, role, password, totp_secret, created_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [name, role.rawValue, passwordHash, Data(try station.kek.seal(totpSecret, purpose: "totp:\(name)")), now])
    }
}

/// Login throttling: after ``threshold`` failures in a row for one name (from one source), the
/// name is refused for ``firstLockSeconds``; each further failure doubles the wait, up to
/// ``maximumLockSeconds``. A successful login or a supervisor's unlock clears it. Unknown names
/// are throttled the same way, so the throttle says nothing about which names exist.
public enum LoginThrottle {
    /// Failures in a row before a name is locked.
    public static let threshold = 5
    /// The first lock's length, in seconds.
    public static let firstLockSeconds: Int64 = 30
    /// The longest lock, in seconds, however many failures follow.
    public static let maximumLockSeconds: Int64 = 3_600
    /// The source of logins from this machine's command line (the server will name its clients).
    public static let localSource = "local"

    struct State {
        var failures: Int64 = 0
        var lockedUntil: Int64 = 0
        var lastSeconds: Int64 = 0
    }
}

extension StoreTransaction {
    func throttle(name: String, source: String) throws -> LoginThrottle.State {
        guard let r = try Row.fetchOne(db, sql: "SELECT failures, locked_until, last_seconds FROM login_throttle WHERE name = ? AND source = ?",
                                       arguments: [name, source]) else { return LoginThrottle.State() }
        // Values from the file are clamped: an edited row may lock or unlock, never trap.
        let failures = max(0, min(r["failures"] as Int64? ?? 0, 1_000_000))
        let lastSeconds = max(0, min(r["last_seconds"] as Int64? ?? 0, LoginThrottle.maximumLockSeconds))
        let until = max(0, min(r["locked_until"] as Int64? ?? 0, AuditTime.latest))
        return LoginThrottle.State(failures: failures, lockedUntil: until, lastSeconds: lastSeconds)
    }

    /// Counts an attempt as a failure until it succeeds: the count reaching the threshold locks
    /// the name at once (the first lock 30 s, each later one twice as long), so no attempt that
    /// starts after it can pass. Returns the count and lock as stored.
    func countLoginAttempt(name: String, source: String, current: LoginThrottle.State) throws -> LoginThrottle.State {
        var t = current
        t.failures += 1
        t.lockedUntil = 0
        if t.failures >= Int64(LoginThrottle.threshold) {
            t.lastSeconds = t.lastSeconds == 0 ? LoginThrottle.firstLockSeconds : min(t.lastSeconds * 2, LoginThrottle.maximumLockSeconds)
            t.lockedUntil = min(now.addingReportingOverflow(t.lastSeconds).overflow ? Int64.max : now + t.lastSeconds, AuditTime.latest)
        }
        try db.execute(sql: """
            INSERT INTO login_throttle (name, source, failures, locked_until, last_seconds) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (name, source) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
                last_seconds = excluded.last_seconds
            """, arguments: [name, source, t.failures, t.lockedUntil, t.lastSeconds])
        return t
    }

    func clearThrottle(name: String, source: String) throws {
        try db.execute(sql: "DELETE FROM login_throttle WHERE name = ? AND source = ?", arguments: [name, source])
    }
}

extension Station {
    /// Removes the files of a station just created, when what had to follow its creation failed
    /// (the first supervisor's secret could not be written): init is all or nothing.
    public func removeFilesOfNewStation(createdKEK: String?, publicKeyOut: String? = nil) {
        if isShared {
            unlink(publicKeyOut ?? name + ".pub")
        } else {
            for file in [path, path + "-wal", path + "-shm", path + "-journal", path + ".pub"] { unlink(file) }
        }
        if let createdKEK { unlink(createdKEK) }
    }
}

extension StoreTransaction {
    /// One station's row: its id, name, the store's KDF salt, the KEK check and its signing key sealed for it.
    func insertStationRow(stationID: String, name: String, now: Int64, salt: [UInt8], kek: KeyEncryptionKey,
                          signingKey: Curve25519.Signing.PrivateKey, testClock: Bool) throws {
        let values: SQLArguments = [stationID, name, now, Data(salt),
                                    Data(try kek.seal(Array("ok".utf8), purpose: "kek-check:\(stationID)")),
                                    Data(try kek.seal(Array(signingKey.rawRepresentation), purpose: "station-signing-key:\(stationID)")),
                                    signingKey.publicKey.rawRepresentation, testClock ? 1 : 0]
        // SQLite's station table holds exactly one row (id 1); PostgreSQL's one per station.
        let id = db.dialect == .sqlite ? "1" : "DEFAULT"
        try db.execute(sql: """
            INSERT INTO station (id, station_id, name, created_at, kdf_salt, kek_check, signing_key, public_key, test_clock)
            VALUES (\(id), ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: values)
    }
}
