import Foundation
import GRDB

/// What `stsvend station migrate` moved.
public struct StoreMigrationSummary: Sendable {
    /// Rows copied, by table, in copy order.
    public var rows: [(table: String, count: Int)] = []
    /// The moved station's name and id (the same in both stores).
    public var stationName = ""
    public var stationID = ""
    /// The number of log entries moved (the whole chain, unchanged).
    public var logEntries = 0
}

extension Station {
    /// Every table of the schema, parents before children (foreign keys hold at every insert).
    static let tablesInCopyOrder = [
        "station", "users", "login_throttle", "vending_keys", "tariffs", "customers", "meters", "accounts",
        "sales", "sale_blocks", "log", "campaigns", "campaign_meters", "card_issuer_keys", "cards", "card_purchases",
        "meter_links", "deliveries", "readings", "load_profile", "meter_events", "meter_contacts", "alerts", "notifications",
        "pos_clients", "pos_messages", "pos_faults",
    ]
    /// Tables whose ids PostgreSQL generates: their sequences continue after the moved rows.
    static let tablesWithGeneratedIDs = ["station", "users", "customers", "accounts", "sales", "card_purchases", "alerts", "pos_faults"]

    /// Moves an SQLite station into an empty PostgreSQL database, in one PostgreSQL transaction:
    /// every row as it is, so sealed keys stay sealed under the same key-encryption key (which
    /// must open them: the station is opened first) and the log chain keeps every byte, seq and
    /// hash, so the exported log verifies against the same public key. The SQLite file is left
    /// untouched; sell from the PostgreSQL database afterwards, never from both.
    public static func migrateStore(from sqlitePath: String, kekPath: String? = nil, to url: String,
                                    passwordFile: String? = nil) throws -> StoreMigrationSummary {
        let source = try Station.open(path: sqlitePath, kekPath: kekPath)
        guard case .sqlite(let queue) = source.store else { throw StationError.invalid(.database, "--from must be an SQLite station file") }
        let location = try PostgresLocation(url: url)
        let pg = try PostgresStore(location: location, passwordFile: passwordFile)
        defer { pg.close() }
        var summary = StoreMigrationSummary()
        summary.stationName = source.name
        summary.stationID = source.stationID
        do {
            try pg.migrate()
            try pg.withConnection { target in
                try target.execute(sql: "BEGIN ISOLATION LEVEL SERIALIZABLE")
                do {
                    guard (try Int64.fetchOne(target, sql: "SELECT COUNT(*) FROM station") ?? 0) == 0 else {
                        throw StationError.alreadyExists("a station database at \(location.displayURL) (migrate into an empty database)")
                    }
                    // A snapshot of the whole file: a station still selling cannot tear the copy.
                    try queue.read { db in
                        for table in tablesInCopyOrder {
                            let count = try copy(table: table, from: db, to: target)
                            summary.rows.append((table, count))
                            if table == "log" { summary.logEntries = count }
                        }
                    }
                    for table in tablesWithGeneratedIDs {
                        try target.execute(sql: "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM \(table)")
                    }
                    try target.execute(sql: "COMMIT")
                } catch {
                    if (error as? StoreDBError)?.kind != .unreachable { try? target.execute(sql: "ROLLBACK") }
                    throw error
                }
            }
        } catch let e as StoreDBError {
            throw StationError.store(StoreFailure.describe(e))
        } catch let e as DatabaseError {
            throw StationError.store(StoreFailure.describe(e))
        }
        return summary
    }

    /// Copies one table's rows, column for column, in batches of one multi-row INSERT.
    private static func copy(table: String, from db: GRDB.Database, to target: PostgresStoreDB) throws -> Int {
        let cursor = try GRDB.Row.fetchCursor(db, sql: "SELECT * FROM \(table)")
        var columns: [String] = []
        var batch: [SQLValue] = []
        var rowsInBatch = 0, total = 0
        func flush() throws {
            guard rowsInBatch > 0 else { return }
            let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + Array(repeating: row, count: rowsInBatch).joined(separator: ", ")
            _ = try target.run(sql, batch)
            batch.removeAll(keepingCapacity: true)
            rowsInBatch = 0
        }
        while let r = try cursor.next() {
            if columns.isEmpty { columns = Array(r.columnNames) }
            batch.append(contentsOf: r.databaseValues.map(SQLiteStoreDB.value))
            rowsInBatch += 1
            total += 1
            // PostgreSQL takes at most 65 535 parameters per statement.
            if (rowsInBatch + 1) * columns.count > 60_000 || rowsInBatch >= 500 { try flush() }
        }
        try flush()
        return total
    }
}
