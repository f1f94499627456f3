import Foundation
import GRDB

/// The embedded store: one SQLite connection (GRDB) inside one transaction. Statements are
/// prepared once per connection and kept (GRDB's statement cache, keyed by the SQL text).
final class SQLiteStoreDB: StoreDB {
    let db: GRDB.Database
    var dialect: SQLDialect { .sqlite }

    init(_ db: GRDB.Database) { self.db = db }

    func run(_ sql: String, _ arguments: [SQLValue]) throws -> [Row] {
        do {
            let statement = try db.cachedStatement(sql: sql)
            let args = StatementArguments(arguments.map(Self.databaseValue))
            if statement.columnCount == 0 {
                try statement.execute(arguments: args)
                return []
            }
            let names = statement.columnNames
            var rows: [Row] = []
            let cursor = try GRDB.Row.fetchCursor(statement, arguments: args)
            while let r = try cursor.next() {
                rows.append(Row(columns: names, values: r.databaseValues.map(Self.value)))
            }
            return rows
        } catch let e as DatabaseError {
            throw Self.storeError(e)
        }
    }

    var changesCount: Int { db.changesCount }
    var lastInsertedRowID: Int64 { db.lastInsertedRowID }

    static func databaseValue(_ v: SQLValue) -> DatabaseValue {
        switch v {
        case .null: return .null
        case .int(let i): return i.databaseValue
        case .double(let d): return d.databaseValue
        case .text(let s): return s.databaseValue
        case .blob(let b): return Data(b).databaseValue
        }
    }

    static func value(_ v: DatabaseValue) -> SQLValue {
        switch v.storage {
        case .null: return .null
        case .int64(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .text(s)
        case .blob(let d): return .blob(Array(d))
        }
    }

    /// SQLite's result codes in the station's terms (``StoreFailure`` words them for people).
    static func storeError(_ e: DatabaseError) -> StoreDBError {
        let kind: StoreDBError.Kind
        switch e.resultCode.primaryResultCode {
        case .SQLITE_FULL: kind = .full
        case .SQLITE_READONLY: kind = .readOnly
        case .SQLITE_BUSY, .SQLITE_LOCKED: kind = .busy
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: kind = .damaged
        case .SQLITE_CANTOPEN: kind = .cannotOpen
        case .SQLITE_IOERR: kind = .io
        case .SQLITE_PERM, .SQLITE_AUTH: kind = .permission
        case .SQLITE_CONSTRAINT: kind = .constraint
        default: kind = .other
        }
        return StoreDBError(kind: kind, message: "SQLite code \(e.resultCode.primaryResultCode.rawValue)")
    }
}
