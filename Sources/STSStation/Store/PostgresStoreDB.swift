import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The utility's store: one PostgreSQL connection (postgres-nio) inside one transaction. The
/// station's statements are written once with `?` placeholders; ``PostgresSQL`` turns them into
/// PostgreSQL's (`$1`, `ON CONFLICT DO NOTHING`, `ILIKE`), once per statement text.
final class PostgresStoreDB: StoreDB {
    let connection: PostgresConnection
    let logger: Logger
    private(set) var changesCount = 0
    var dialect: SQLDialect { .postgres }

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    func run(_ sql: String, _ arguments: [SQLValue]) throws -> [Row] {
        let text = PostgresSQL.translate(sql)
        var binds = PostgresBindings(capacity: arguments.count)
        for a in arguments {
            switch a {
            case .null: binds.appendNull()
            case .int(let i): binds.append(i)
            case .double(let d): binds.append(d)
            case .text(let s): binds.append(s)
            case .blob(let b): binds.append(ByteBuffer(bytes: b))
            }
        }
        let result: PostgresQueryResult
        do {
            result = try Self.wait(for: connection.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: logger), on: connection)
        } catch {
            throw PostgresFailure.storeError(error)
        }
        changesCount = result.metadata.rows ?? 0
        guard let first = result.rows.first else { return [] }
        let names = first.map(\.columnName)
        return result.rows.map { row in Row(columns: names, values: row.map(PostgresCellValue.value)) }
    }

    /// The longest the station waits for one statement's answer. A connection the database
    /// dropped can leave a request unanswered (seen when PostgreSQL restarts under load): after
    /// this the connection is closed and the statement fails as unreachable, never hangs a station.
    static let answerTimeout: DispatchTimeInterval = .seconds(30)

    static func wait<T: Sendable>(for future: EventLoopFuture<T>, on connection: PostgresConnection) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        future.whenComplete { r in box.set(r); done.signal() }
        guard done.wait(timeout: .now() + answerTimeout) == .success, let r = box.get() else {
            let closing: EventLoopFuture<Void> = connection.close()
            closing.whenComplete { _ in withExtendedLifetime(connection) {} }
            throw StoreDBError(kind: .unreachable, message: "the database did not answer within \(answerTimeout)")
        }
        return try r.get()
    }

    var lastInsertedRowID: Int64 {
        get throws {
            guard let id = try Int64.fetchOne(self, sql: "SELECT lastval()") else {
                throw StoreDBError(kind: .other, message: "no id was generated")
            }
            return id
        }
    }
}

/// The station's SQL in PostgreSQL's dialect.
enum PostgresSQL {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: String] = [:]

    static func translate(_ sql: String) -> String {
        lock.lock()
        if let t = cache[sql] { lock.unlock(); return t }
        lock.unlock()
        let t = rewrite(sql)
        lock.lock()
        if cache.count < 4_096 { cache[sql] = t }
        lock.unlock()
        return t
    }

    /// `?` → `$n` (and `?N` → `$N`) outside quotes; `INSERT OR IGNORE` → `ON CONFLICT DO NOTHING`;
    /// `LIKE` → `ILIKE` (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
    static func rewrite(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        let chars = Array(sql)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                out.append(c)
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                var j = i + 1
                var digits = ""
                while j < chars.count, let d = chars[j].wholeNumberValue, chars[j].isASCII { digits.append(String(d)); j += 1 }
                if digits.isEmpty { n += 1; out += "$\(n)" } else { out += "$" + digits; i = j - 1 }
            } else {
                out.append(c)
            }
            i += 1
        }
        var ignore = false
        if let r = out.range(of: "INSERT OR IGNORE INTO") { out.replaceSubrange(r, with: "INSERT INTO"); ignore = true }
        out = out.replacingOccurrences(of: " LIKE ", with: " ILIKE ")
        if ignore {
            if let r = out.range(of: " RETURNING ", options: .backwards) {
                out.insert(contentsOf: " ON CONFLICT DO NOTHING", at: r.lowerBound)
            } else {
                out += " ON CONFLICT DO NOTHING"
            }
        }
        return out
    }
}

/// A result cell as a store value. postgres-nio asks for binary results; text is read too.
enum PostgresCellValue {
    static func value(_ cell: PostgresCell) -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        if cell.format == .text {
            let s = bytes.readString(length: bytes.readableBytes) ?? ""
            switch cell.dataType {
            case .int2, .int4, .int8: return Int64(s).map(SQLValue.int) ?? .text(s)
            case .float4, .float8: return Double(s).map(SQLValue.double) ?? .text(s)
            case .bool: return .int(s == "t" ? 1 : 0)
            default: return .text(s)
            }
        }
        switch cell.dataType {
        case .int8: return bytes.readInteger(as: Int64.self).map(SQLValue.int) ?? .null
        case .int4: return bytes.readInteger(as: Int32.self).map { .int(Int64($0)) } ?? .null
        case .int2: return bytes.readInteger(as: Int16.self).map { .int(Int64($0)) } ?? .null
        case .bool: return bytes.readInteger(as: UInt8.self).map { .int($0 == 0 ? 0 : 1) } ?? .null
        case .float8: return bytes.readInteger(as: UInt64.self).map { .double(Double(bitPattern: $0)) } ?? .null
        case .float4: return bytes.readInteger(as: UInt32.self).map { .double(Double(Float(bitPattern: $0))) } ?? .null
        case .bytea: return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
        case .numeric: return numeric(&bytes)
        default: return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        }
    }

    /// PostgreSQL's binary NUMERIC (what `SUM` of a BIGINT column gives): digit count, weight,
    /// sign, scale, then base-10 000 digits. Whole values that fit 63 bits read as integers.
    static func numeric(_ b: inout ByteBuffer) -> SQLValue {
        guard let count = b.readInteger(as: Int16.self), let weight = b.readInteger(as: Int16.self),
              let sign = b.readInteger(as: UInt16.self), let _ = b.readInteger(as: Int16.self), count >= 0 else { return .null }
        if sign == 0xC000 { return .null }  // NaN
        var digits: [Int64] = []
        for _ in 0..<count {
            guard let d = b.readInteger(as: Int16.self) else { return .null }
            digits.append(Int64(d))
        }
        var whole: Int64 = 0, fraction = 0.0, exact = true
        for (i, d) in digits.enumerated() {
            let power = Int(weight) - i
            if power >= 0 {
                var v = d
                for _ in 0..<power {
                    let (m, o) = v.multipliedReportingOverflow(by: 10_000)
                    if o { exact = false; break }
                    v = m
                }
                let (s, o) = whole.addingReportingOverflow(v)
                if o { exact = false } else { whole = s }
            } else if d != 0 {
                fraction += Double(d) * pow(10_000, Double(power))
            }
        }
        let negative = sign == 0x4000
        if exact, fraction == 0 { return .int(negative ? -whole : whole) }
        let v = Double(whole) + fraction
        return .double(negative ? -v : v)
    }
}

/// PostgreSQL's failures in the station's terms: SQLSTATE classes, lost connections.
enum PostgresFailure {
    static func storeError(_ error: Error) -> StoreDBError {
        if let e = error as? StoreDBError { return e }
        guard let p = error as? PSQLError else {
            return StoreDBError(kind: .unreachable, message: "the database connection failed")
        }
        if p.code == .server, let state = p.serverInfo?[.sqlState] {
            let message = p.serverInfo?[.message] ?? state
            switch state {
            case "40001", "40P01": return StoreDBError(kind: .retry, message: message)
            case "23505": return StoreDBError(kind: .duplicate, message: message)
            case "53100": return StoreDBError(kind: .full, message: message)
            case "25006": return StoreDBError(kind: .readOnly, message: message)
            case "55P03": return StoreDBError(kind: .busy, message: message)
            case "XX001", "XX002": return StoreDBError(kind: .damaged, message: message)
            case "28000", "28P01", "42501": return StoreDBError(kind: .permission, message: message)
            case "57P01", "57P02", "57P03": return StoreDBError(kind: .unreachable, message: message)
            default:
                if state.hasPrefix("23") { return StoreDBError(kind: .constraint, message: message) }
                if state.hasPrefix("08") { return StoreDBError(kind: .unreachable, message: message) }
                return StoreDBError(kind: .other, message: "PostgreSQL \(state): \(message)")
            }
        }
        return StoreDBError(kind: .unreachable, message: "the database connection failed (\(p.code))")
    }
}

/// One result handed from an event loop to the waiting thread.
final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, Error>?
    func set(_ r: Result<T, Error>) { lock.lock(); value = r; lock.unlock() }
    func get() -> Result<T, Error>? { lock.lock(); defer { lock.unlock() }; return value }
}
