import Foundation

/// One value bound to a statement or read from a row, whichever database holds the station.
enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift value a statement can take as an argument.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { var sqlValue: SQLValue { .int(self) } }
extension Int: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int32: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension UInt32: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension UInt16: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension UInt8: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension Bool: SQLBindable { var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Double: SQLBindable { var sqlValue: SQLValue { .double(self) } }
extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Substring: SQLBindable { var sqlValue: SQLValue { .text(String(self)) } }
extension Data: SQLBindable { var sqlValue: SQLValue { .blob(Array(self)) } }
extension Array: SQLBindable where Element == UInt8 { var sqlValue: SQLValue { .blob(self) } }

/// A column value read back as a Swift type. The store's rows come from files and databases that
/// may have been tampered with: a value of the wrong kind reads as the type's `fallback`, never a crash.
protocol SQLColumnValue {
    /// The value, or nil when it is NULL or cannot be this type.
    static func decode(_ value: SQLValue) -> Self?
    /// What a NULL or unreadable value reads as where the code asked for a non-optional value.
    static var fallback: Self { get }
}

extension Int64: SQLColumnValue {
    static func decode(_ value: SQLValue) -> Int64? {
        switch value {
        case .int(let v): return v
        case .double(let d): return d.rounded(.towardZero) == d && abs(d) < 9.2e18 ? Int64(d) : nil
        case .text(let s): return Int64(s)
        default: return nil
        }
    }
    static var fallback: Int64 { 0 }
}

extension Int: SQLColumnValue {
    static func decode(_ value: SQLValue) -> Int? { Int64.decode(value).map { Int($0) } }
    static var fallback: Int { 0 }
}

extension Bool: SQLColumnValue {
    static func decode(_ value: SQLValue) -> Bool? { Int64.decode(value).map { $0 != 0 } }
    static var fallback: Bool { false }
}

extension Double: SQLColumnValue {
    static func decode(_ value: SQLValue) -> Double? {
        switch value {
        case .int(let v): return Double(v)
        case .double(let d): return d
        case .text(let s): return Double(s)
        default: return nil
        }
    }
    static var fallback: Double { 0 }
}

extension String: SQLColumnValue {
    static func decode(_ value: SQLValue) -> String? {
        switch value {
        case .text(let s): return s
        case .int(let v): return String(v)
        case .double(let d): return String(d)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }
    static var fallback: String { "" }
}

extension Data: SQLColumnValue {
    static func decode(_ value: SQLValue) -> Data? {
        switch value {
        case .blob(let b): return Data(b)
        case .text(let s): return Data(s.utf8)
        default: return nil
        }
    }
    static var fallback: Data { Data() }
}

extension Optional: SQLColumnValue where Wrapped: SQLColumnValue {
    static func decode(_ value: SQLValue) -> Wrapped?? { .some(Wrapped.decode(value)) }
    static var fallback: Wrapped? { nil }
}

/// One result row: its values by position or by column name (case-insensitive, as SQL names are).
struct Row {
    let columns: [String]
    let values: [SQLValue]

    func value(named name: String) -> SQLValue {
        if let i = columns.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) { return values[i] }
        return .null
    }

    subscript<T: SQLColumnValue>(_ name: String) -> T { T.decode(value(named: name)) ?? T.fallback }
    subscript<T: SQLColumnValue>(_ index: Int) -> T {
        T.decode(values.indices.contains(index) ? values[index] : .null) ?? T.fallback
    }
}

/// Arguments as call sites write them: `[pan, tid, nil]`.
typealias SQLArguments = [(any SQLBindable)?]

extension Array where Element == (any SQLBindable)? {
    var sqlValues: [SQLValue] { map { $0?.sqlValue ?? .null } }
}

/// Which SQL a store speaks, where the two differ (date functions, sequences, LIKE).
enum SQLDialect: Sendable { case sqlite, postgres }

/// Failures of the database itself (not of the station's rules), by what the station does about them.
struct StoreDBError: Error, CustomStringConvertible {
    enum Kind: Sendable {
        case full, readOnly, busy, damaged, cannotOpen, io, permission, constraint
        /// A unique key another transaction added meanwhile (PostgreSQL 23505): run it again, it then sees that row.
        case duplicate
        /// Another transaction changed what this one read (PostgreSQL serialization failure, deadlock): run it again.
        case retry
        /// The database cannot be reached or the connection was lost: the outcome of a commit in flight is unknown.
        case unreachable
        case other
    }
    let kind: Kind
    let message: String
    var description: String { message }
}

/// How a savepoint ends.
enum SavepointCompletion { case commit, rollback }

/// One connection inside one transaction: the only way station code reaches its database. The
/// SQLite store (GRDB) and the PostgreSQL store (postgres-nio) implement it; statements are
/// written once, in the SQL both understand, with `?` placeholders.
protocol StoreDB: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs one statement and returns its rows (none for statements that return none).
    func run(_ sql: String, _ arguments: [SQLValue]) throws -> [Row]
    /// Rows changed by the last statement.
    var changesCount: Int { get }
    /// The id given to the row the last INSERT added to a table with a generated id.
    var lastInsertedRowID: Int64 { get throws }
}

/// A statement prepared once per connection (a name kept for call sites; both stores cache by SQL text).
struct StoreStatement {
    let db: any StoreDB
    let sql: String
    func execute(arguments: SQLArguments = []) throws { _ = try db.run(sql, arguments.sqlValues) }
}

extension StoreDB {
    func execute(sql: String, arguments: SQLArguments = []) throws { _ = try run(sql, arguments.sqlValues) }
    func cachedStatement(sql: String) throws -> StoreStatement { StoreStatement(db: self, sql: sql) }
    func makeStatement(sql: String) throws -> StoreStatement { StoreStatement(db: self, sql: sql) }

    /// Runs `body` in a savepoint: its changes are undone when it throws or asks for `.rollback`.
    func inSavepoint(_ body: () throws -> SavepointCompletion) throws {
        // One name for every savepoint (SQLite and PostgreSQL release the latest of that name):
        // a new name per savepoint would be a new prepared statement each time, and SQLite slows
        // with every statement it keeps prepared.
        let name = "sts_savepoint"
        try execute(sql: "SAVEPOINT \(name)")
        let completion: SavepointCompletion
        do { completion = try body() } catch {
            // A lost connection cannot roll back; the transaction is gone with it.
            if (error as? StoreDBError)?.kind != .unreachable {
                try? execute(sql: "ROLLBACK TO SAVEPOINT \(name)")
                try? execute(sql: "RELEASE SAVEPOINT \(name)")
            }
            throw error
        }
        if completion == .rollback { try execute(sql: "ROLLBACK TO SAVEPOINT \(name)") }
        try execute(sql: "RELEASE SAVEPOINT \(name)")
    }
}

/// Reading rows, as call sites write it: `Row.fetchOne(tx.db, sql: …, arguments: […])`.
extension Row {
    static func fetchAll(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> [Row] {
        try db.run(sql, arguments.sqlValues)
    }
    static func fetchOne(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> Row? {
        try db.run(sql, arguments.sqlValues).first
    }
    static func fetchCursor(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> IndexingIterator<[Row]> {
        try db.run(sql, arguments.sqlValues).makeIterator()
    }
    static func fetchAll(_ statement: StoreStatement, arguments: SQLArguments = []) throws -> [Row] {
        try fetchAll(statement.db, sql: statement.sql, arguments: arguments)
    }
    static func fetchOne(_ statement: StoreStatement, arguments: SQLArguments = []) throws -> Row? {
        try fetchOne(statement.db, sql: statement.sql, arguments: arguments)
    }
}

/// Single-column reads: `Int64.fetchOne(tx.db, sql: "SELECT MAX(id) FROM sales")` (nil for no row or NULL).
protocol SQLFetchable: SQLColumnValue {}
extension Int64: SQLFetchable {}
extension Int: SQLFetchable {}
extension Bool: SQLFetchable {}
extension Double: SQLFetchable {}
extension String: SQLFetchable {}
extension Data: SQLFetchable {}

extension SQLFetchable {
    static func fetchOne(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.run(sql, arguments.sqlValues).first, let v = row.values.first else { return nil }
        return decode(v)
    }
    static func fetchAll(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.run(sql, arguments.sqlValues).compactMap { $0.values.first.flatMap(decode) }
    }
    static func fetchCursor(_ db: any StoreDB, sql: String, arguments: SQLArguments = []) throws -> IndexingIterator<[Self]> {
        try fetchAll(db, sql: sql, arguments: arguments).makeIterator()
    }
    static func fetchOne(_ statement: StoreStatement, arguments: SQLArguments = []) throws -> Self? {
        try fetchOne(statement.db, sql: statement.sql, arguments: arguments)
    }
    static func fetchAll(_ statement: StoreStatement, arguments: SQLArguments = []) throws -> [Self] {
        try fetchAll(statement.db, sql: statement.sql, arguments: arguments)
    }
}
