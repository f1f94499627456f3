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
    /// Where the station's data lives: an SQLite file, or a utility's PostgreSQL database shared with other stations.
    let store: StationStore
    /// Replaced in place by a KEK rotation, so this object never seals under a retired key.
    var kek: KeyEncryptionKey
    let signingKey: Curve25519.Signing.PrivateKey
    /// The station's id (a lower-case UUID), fixed at creation: it binds sealed secrets and signed checkpoints to this station.
    public let stationID: String
    /// The station's name (unique among the stations of one database).
    public internal(set) var name = "station"
    /// The path of the station's SQLite file, or the PostgreSQL URL (never with a password).
    public let path: String
    /// The clock (Unix seconds); tests and benchmarks inject their own.
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    /// Whether the station was created as a test station, whose clock scripted tests may set.
    public internal(set) var testClock = false
    /// This station's part in an offline lane (``OfflineLaneRole``), read when it is opened.
    var offlineLane = OfflineLaneRole.none
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
    /// Guards the caches above: on PostgreSQL, reads run in parallel.
    let cacheLock = NSLock()
    func cached<T>(_ body: () -> T) -> T { cacheLock.lock(); defer { cacheLock.unlock() }; return body() }
    /// One write transaction at a time from this process (SQLite's queue does this itself):
    /// the station's log chain has one head.
    let writeLock = NSLock()

    /// The public key that verifies this station's checkpoints.
    public var publicKey: Curve25519.Signing.PublicKey { signingKey.publicKey }

    /// True when the station's store is a PostgreSQL database (possibly shared by many stations).
    public var isShared: Bool { if case .postgres = store { true } else { false } }

    var dialect: SQLDialect { if case .postgres = store { .postgres } else { .sqlite } }

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

    init(path: String, store: StationStore, kek: KeyEncryptionKey, signingKey: Curve25519.Signing.PrivateKey, stationID: String) {
        self.path = path
        self.store = store
        self.kek = kek
        self.signingKey = signingKey
        self.stationID = stationID
    }

    /// The key-encryption key file a station uses when none is named: `PATH.kek` beside an SQLite
    /// file; `DBNAME.kek` in the current folder for a PostgreSQL database.
    public static func defaultKEKPath(for database: String) -> String {
        if PostgresLocation.isURL(database), let l = try? PostgresLocation(url: database) { return l.database + ".kek" }
        return database + ".kek"
    }

    /// Opens an existing station; `kekPath` defaults to ``defaultKEKPath(for:)``. `path` is an
    /// SQLite file or a PostgreSQL URL; on PostgreSQL `stationName` picks the station (default:
    /// the first made) and `passwordFile` holds the database password.
    public static func open(path: String, kekPath: String? = nil, stationName: String? = nil, passwordFile: String? = nil) throws -> Station {
        if PostgresLocation.isURL(path) {
            return try openShared(url: path, kekPath: kekPath, stationName: stationName, passwordFile: passwordFile)
        }
        guard FileManager.default.fileExists(atPath: path) else { throw StationError.notFound("station database \(path)") }
        tightenModes(path)
        let db = try connect(path)
        try migrate(db)
        let found: GRDB.Row?
        do { found = try db.read({ try GRDB.Row.fetchOne($0, sql: "SELECT station_id, name, kdf_salt, kek_check, signing_key, test_clock FROM station") }) } catch {
            throw StationError.store(StoreFailure.describe(error))
        }
        guard let found else {
            throw StationError.store("\(path) is not an initialised station")
        }
        if let stationName, stationName != (found["name"] as String? ?? "") {
            throw StationError.notFound("station \(stationName) in \(path)")
        }
        let row = Row(columns: Array(found.columnNames), values: found.databaseValues.map(SQLiteStoreDB.value))
        return try finishOpen(path: path, store: .sqlite(db), row: row, kekPath: kekPath ?? path + ".kek")
    }

    static func openShared(url: String, kekPath: String?, stationName: String?, passwordFile: String?) throws -> Station {
        let location = try PostgresLocation(url: url)
        let pg = try PostgresStore(location: location, passwordFile: passwordFile)
        do {
            try pg.migrate()
            let row: Row? = try pg.withConnection { db in
                if let stationName {
                    return try Row.fetchOne(db, sql: "SELECT station_id, name, kdf_salt, kek_check, signing_key, test_clock FROM station WHERE name = ?", arguments: [stationName])
                }
                return try Row.fetchOne(db, sql: "SELECT station_id, name, kdf_salt, kek_check, signing_key, test_clock FROM station ORDER BY id LIMIT 1")
            }
            guard let row else {
                if let stationName { throw StationError.notFound("station \(stationName) in \(location.displayURL)") }
                throw StationError.store("\(location.displayURL) holds no station yet (create one with 'stsvend station init --db \(location.displayURL)')")
            }
            return try finishOpen(path: location.displayURL, store: .postgres(pg), row: row, kekPath: kekPath ?? location.database + ".kek")
        } catch let e as StoreDBError {
            pg.close()
            throw StationError.store(StoreFailure.describe(e))
        } catch {
            pg.close()
            throw error
        }
    }

    private static func finishOpen(path: String, store: StationStore, row: Row, kekPath: String) throws -> Station {
        let stationID: String = row["station_id"]
        let kek = try KeyEncryptionKey.load(path: kekPath, salt: Array(row["kdf_salt"] as Data))
        _ = try kek.open(row["kek_check"] as Data, purpose: "kek-check:\(stationID)")
        var raw = try kek.open(row["signing_key"] as Data, purpose: "station-signing-key:\(stationID)")
        defer { for i in raw.indices { raw[i] = 0 } }
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        let station = Station(path: path, store: store, kek: kek, signingKey: key, stationID: stationID)
        station.name = row["name"]
        station.testClock = (row["test_clock"] as Int64? ?? 0) == 1
        try station.loadOfflineLane()
        return station
    }

    /// Closes the station's database connections (PostgreSQL); SQLite closes with the object.
    public func close() {
        if case .postgres(let pg) = store { pg.close() }
    }

    /// Attempts at a PostgreSQL transaction that another station's concurrent change made fail.
    static let serializationAttempts = 64

    /// Runs `body` as one durable write transaction; it is rolled back if `body` throws. On
    /// PostgreSQL it is REPEATABLE READ (snapshot isolation): when another station's transaction
    /// changed a row this one changes (a meter's last TID, an account, a station's log head) or
    /// added a unique key this one adds (a request id), it fails, is rolled back and is run again
    /// from the start, then seeing the other's commit (so `body` must do nothing but read and
    /// write the store). Every read-modify-write the station does is on the row it changes.
    func write<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        switch store {
        case .sqlite(let queue):
            do {
                return try queue.writeWithoutTransaction { db in
                    var result: T?
                    try db.inTransaction(.immediate) {
                        let tx = StoreTransaction(db: SQLiteStoreDB(db), station: self)
                        result = try body(tx)
                        try tx.sealIfDue()
                        return .commit
                    }
                    return result!
                }
            } catch let e as StationError { throw e } catch {
                throw StationError.store(StoreFailure.describe(error))
            }
        case .postgres(let pg):
            writeLock.lock()
            defer { writeLock.unlock() }
            var attempt = 0
            while true {
                attempt += 1
                do {
                    return try pg.inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ") { db in
                        do {
                            let tx = StoreTransaction(db: db, station: self)
                            let result = try body(tx)
                            try tx.sealIfDue()
                            try db.execute(sql: "COMMIT")
                            return result
                        } catch {
                            if (error as? StoreDBError)?.kind != .unreachable { try? db.execute(sql: "ROLLBACK") }
                            throw error
                        }
                    }
                } catch let e as StoreDBError where (e.kind == .retry || e.kind == .duplicate) && attempt < Self.serializationAttempts {
                    // Another station changed what this transaction read: wait a little, run it again.
                    usleep(UInt32.random(in: 100...UInt32(min(20_000, 500 * attempt))))
                    continue
                } catch let e as StationError { throw e } catch {
                    throw StationError.store(StoreFailure.describe(error))
                }
            }
        }
    }

    func read<T>(_ body: (StoreTransaction) throws -> T) throws -> T {
        switch store {
        case .sqlite(let queue):
            do {
                return try queue.read { db in try body(StoreTransaction(db: SQLiteStoreDB(db), station: self)) }
            } catch let e as StationError { throw e } catch {
                throw StationError.store(StoreFailure.describe(error))
            }
        case .postgres(let pg):
            do {
                return try pg.inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { db in
                    do {
                        let result = try body(StoreTransaction(db: db, station: self))
                        try db.execute(sql: "COMMIT")
                        return result
                    } catch {
                        if (error as? StoreDBError)?.kind != .unreachable { try? db.execute(sql: "ROLLBACK") }
                        throw error
                    }
                }
            } catch let e as StationError { throw e } catch {
                throw StationError.store(StoreFailure.describe(error))
            }
        }
    }
}

/// Where a station's data lives.
enum StationStore {
    case sqlite(DatabaseQueue)
    case postgres(PostgresStore)
}

/// Storage failures in the operator's words: what happened and what to check, never SQL or
/// library internals.
enum StoreFailure {
    static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError { return describe(SQLiteStoreDB.storeError(e)) }
        guard let e = error as? StoreDBError else { return "the database could not be used" }
        switch e.kind {
        case .full: return "the disk is full (free some space; nothing was recorded)"
        case .readOnly: return "the database is read-only (check the permissions of the file and its folder)"
        case .busy: return "the database is busy in another process (try again)"
        case .damaged: return "the database file is damaged or is not a station database"
        case .cannotOpen: return e.message.contains("does not exist") ? e.message : "the database file cannot be opened (check the path and permissions)"
        case .io: return "a disk error while reading or writing (check the disk)"
        case .permission: return e.message.contains("refused the login") ? e.message : "the database refused access (check the permissions)"
        case .constraint, .duplicate: return "the change conflicts with data already recorded"
        case .retry: return "other stations kept changing the same records (try again)"
        case .unreachable: return "\(e.message.hasPrefix("postgres://") ? e.message : "the database cannot be reached or the connection was lost") (try again: a sale retried with the same request id is never sold twice)"
        case .other: return "the database failed (\(e.message))"
        }
    }
}
