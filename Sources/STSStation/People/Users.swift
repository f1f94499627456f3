import Crypto
import Foundation
import GRDB
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
                              passwordCost: Int = 15, testClock: Bool = false) throws -> (Station, totpSecret: [UInt8]) {
        guard !FileManager.default.fileExists(atPath: path) else { throw StationError.alreadyExists("station database \(path)") }
        guard password.count >= 8 else { throw StationError.invalid(.password, "a password needs at least 8 characters") }
        try validateUserName(admin)
        var created: [String] = []
        do {
            return try create(path: path, name: name, admin: admin, password: password, kekPath: kekPath, now: now,
                              passwordCost: passwordCost, testClock: testClock, created: &created)
        } catch {
            for file in created.reversed() { unlink(file) }
            throw error
        }
    }

    private static func create(path: String, name: String, admin: String, password: [UInt8], kekPath: String?, now: Int64,
                               passwordCost: Int, testClock: Bool, created: inout [String]) throws -> (Station, totpSecret: [UInt8]) {
        var salt = [UInt8](repeating: 0, count: 16)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = g.next() }
        try PrivateFile.create(path, contents: [])
        created += [path, path + "-wal", path + "-shm", path + "-journal"]
        let kekFile = kekPath ?? path + ".kek"
        let kek: KeyEncryptionKey
        if FileManager.default.fileExists(atPath: kekFile) {
            kek = try KeyEncryptionKey.load(path: kekFile, salt: salt)
        } else {
            kek = try KeyEncryptionKey.generate(writingTo: kekFile)
            created.append(kekFile)
        }
        let signingKey = Curve25519.Signing.PrivateKey()
        let stationID = UUID().uuidString.lowercased()
        let db = try connect(path)
        try migrate(db)
        let station = Station(path: path, db: db, kek: kek, signingKey: signingKey, stationID: stationID)
        station.testClock = testClock
        station.now = { now }
        var totp = [UInt8](repeating: 0, count: 20)
        for i in totp.indices { totp[i] = g.next() }
        let passwordHash = try PasswordHash.make(password, logN: passwordCost)
        let secret = totp
        try station.write { tx in
            try tx.db.execute(sql: """
                INSERT INTO station (id, station_id, name, created_at, kdf_salt, kek_check, signing_key, public_key, test_clock)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [stationID, name, now, Data(salt),
                                 Data(try kek.seal(Array("ok".utf8), purpose: "kek-check:\(stationID)")),
                                 Data(try kek.seal(Array(signingKey.rawRepresentation), purpose: "station-signing-key:\(stationID)")),
                                 signingKey.publicKey.rawRepresentation, testClock ? 1 : 0])
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
        try PrivateFile.create(path + ".pub", contents: Array(StationPublicKeyFile.text(signingKey.publicKey).utf8))
        created.append(path + ".pub")
        station.now = { Int64(Date().timeIntervalSince1970) }
        return (station, totp)
    }

    static func validateUserName(_ name: String) throws(StationError) {
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 34 && $0 != 92 }) else {
            throw .invalid(.userName, "a user name is 1–64 printable characters without spaces or quotes")
        }
    }

    /// Checks a user's password (and second-factor code, when given) and returns who acts. A
    /// failure is logged (`login_failure`) and committed before the error is thrown, and the
    /// error never says which part failed. A TOTP code is accepted once. Failures in a row are
    /// throttled per name (``LoginThrottle``): a locked name is refused without checking anything.
    public func authenticate(user: String, password: [UInt8], totp: String? = nil, action: String,
                             source: String = LoginThrottle.localSource) throws -> Actor {
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
                step = TOTP(secret: secret).matchingStep(totp, atUnixSeconds: now())
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
    public func removeFilesOfNewStation(createdKEK: String?) {
        for file in [path, path + "-wal", path + "-shm", path + "-journal", path + ".pub"] { unlink(file) }
        if let createdKEK { unlink(createdKEK) }
    }
}
