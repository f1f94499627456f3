import Crypto
import Foundation
import GRDB
import STSAuditLog
import STSTariff

/// One vending station: its SQLite file (WAL, `synchronous=FULL`), its secrets opened with the
/// key-encryption key, and every operation a vending office performs. Each operation is one
/// serialised transaction (SQLite `BEGIN IMMEDIATE`), so several processes may sell from the same
/// file at once; it appends its log entries in that same transaction, so the log and the sales
/// never disagree, even after a crash.
public final class Station: @unchecked Sendable {
    let db: DatabaseQueue
    /// Replaced in place by a KEK rotation, so this object never seals under a retired key.
    var kek: KeyEncryptionKey
    let signingKey: Curve25519.Signing.PrivateKey
    /// The station's id (a lower-case UUID), fixed at creation: it binds sealed secrets and signed checkpoints to this station.
    public let stationID: String
    /// The path of the station's SQLite file.
    public let path: String
    /// The clock (Unix seconds); tests and benchmarks inject their own.
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    /// Whether the station was created as a test station, whose clock scripted tests may set.
    public internal(set) var testClock = false
    /// Entries between signed checkpoints, and the longest time a sealed log may lag.
    public var checkpointEvery = 1_000
    /// Seconds after the last signed checkpoint at which the next change also writes one.
    public var checkpointSeconds: Int64 = 300
    /// Decrypted vending keys, by name, for the life of this object.
    var vendingKeyCache: [String: CachedVendingKey] = [:]
    /// The current card issuer key, once opened.
    var cardIssuerCache: CachedCardIssuer?
    /// Decoded tariffs (name → latest version seen).
    var tariffCache: [String: (Tariff, Int)] = [:]

    /// The public key that verifies this station's checkpoints.
    public var publicKey: Curve25519.Signing.PublicKey { signingKey.publicKey }

    static func connect(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do { return try DatabaseQueue(path: path, configuration: config) } catch {
            // SQLite says "cannot open" when WAL files cannot be made: say why when we can tell.
            let folder = (path as NSString).deletingLastPathComponent
            if access(path, W_OK) != 0 || access(folder.isEmpty ? "." : folder, W_OK) != 0 {
                throw StationError.store("cannot open \(path): the database is read-only (its file, its folder or the file system cannot be written; a station needs to write its -wal and -shm files beside it)")
            }
            throw StationError.store("cannot open \(path): \(StoreFailure.describe(error))")
        }
    }

    static func migrate(_ db: DatabaseQueue) throws {
        do { try StationSchema.migrator.migrate(db) } catch {
            throw StationError.store(StoreFailure.describe(error))
        }
    }

    /// Station files hold every token and the password hashes: older stations made under a
    /// loose umask are brought to owner-only when opened.
    static func tightenModes(_ path: String) {
        for file in [path, path + "-wal", path + "-shm"] {
            var st = stat()
            if stat(file, &st) == 0, st.st_mode & 0o077 != 0 { chmod(file, 0o600) }
        }
    }

    init(path: String, db: DatabaseQueue, kek: KeyEncryptionKey, signingKey: Curve25519.Signing.PrivateKey, stationID: String) {
        self.path = path
        self.db = db
        self.kek = kek
        self.signingKey = signingKey
        self.stationID = stationID
    }

    /// Opens an existing station; `kekPath` defaults to `PATH.kek`.
    public static func open(path: String, kekPath: String? = nil) throws -> Station {
        guard FileManager.default.fileExists(atPath: path) else { throw StationError.notFound("station database \(path)") }
        tightenModes(path)
        let db = try connect(path)
        try migrate(db)
        let found: Row?
        do { found = try db.read({ try Row.fetchOne($0, sql: "SELECT station_id, kdf_salt, kek_check, signing_key, test_clock FROM station") }) } catch {
            throw StationError.store(StoreFailure.describe(error))
        }
        guard let row = found else {
            throw StationError.store("\(path) is not an initialised station")
        }
        let stationID: String = row["station_id"]
        let kek = try KeyEncryptionKey.load(path: kekPath ?? path + ".kek", salt: Array(row["kdf_salt"] as Data))
        _ = try kek.open(row["kek_check"] as Data, purpose: "kek-check:\(stationID)")
        var raw = try kek.open(row["signing_key"] as Data, purpose: "station-signing-key:\(stationID)")
        defer { for i in raw.indices { raw[i] = 0 } }
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        let station = Station(path: path, db: db, kek: kek, signingKey: key, stationID: stationID)
        station.testClock = (row["test_clock"] as Int64? ?? 0) == 1
        return station
    }

    /// Runs `body` as one durable write transaction; it is rolled back if `body` throws.
    func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        do {
            return try db.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    let tx = StoreTransaction(db: db, station: self)
                    result = try body(tx)
                    try tx.sealIfDue()
                    return .commit
                }
                return result!
            }
        } catch let e as StationError { throw e } catch let e as DatabaseError {
            throw StationError.store(StoreFailure.describe(e))
        }
    }

    func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        do {
            return try db.read { db in try body(StoreTransaction(db: db, station: self)) }
        } catch let e as StationError { throw e } catch let e as DatabaseError {
            throw StationError.store(StoreFailure.describe(e))
        }
    }
}

/// Storage failures in the operator's words: what happened and what to check, never SQL or
/// library internals.
enum StoreFailure {
    static func describe(_ error: Error) -> String {
        guard let e = error as? DatabaseError else { return "the database could not be used" }
        switch e.resultCode.primaryResultCode {
        case .SQLITE_FULL: return "the disk is full (free some space; nothing was recorded)"
        case .SQLITE_READONLY: return "the database is read-only (check the permissions of the file and its folder)"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database is busy in another process (try again)"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the database file is damaged or is not a station database"
        case .SQLITE_CANTOPEN: return "the database file cannot be opened (check the path and permissions)"
        case .SQLITE_IOERR: return "a disk error while reading or writing (check the disk)"
        case .SQLITE_PERM, .SQLITE_AUTH: return "the database refused access (check the permissions)"
        case .SQLITE_CONSTRAINT: return "the change conflicts with data already recorded"
        default: return "the database failed (SQLite code \(e.resultCode.primaryResultCode.rawValue))"
        }
    }
}
