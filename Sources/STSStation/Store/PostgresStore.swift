import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A pool of PostgreSQL connections for one station process. Connections are made when first
/// needed and dropped when they fail, so a restarted database is simply reconnected to by the
/// next transaction; a transaction whose connection was lost fails with a retryable storage
/// error (HTTP 503, exit 6) and is never retried here, because its commit may have landed:
/// the caller retries with the same request id, which returns the committed sale.
final class PostgresStore: @unchecked Sendable {
    let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var opened = 0
    private var nextID = 0
    private var closed = false
    let capacity: Int

    init(location: PostgresLocation, passwordFile: String?, capacity: Int = 8) throws {
        self.location = location
        self.capacity = max(1, capacity)
        let password = try location.password(file: passwordFile)
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch location.tls {
            case .disable: tls = .disable
            case .prefer, .require:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none
                let context = try NIOSSLContext(configuration: c)
                tls = location.tls == .prefer ? .prefer(context) : .require(context)
            case .verifyCA, .verifyFull:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = location.tls == .verifyFull ? .fullVerification : .noHostnameVerification
                if let root = location.rootCertificate { c.trustRoots = .file(root) }
                tls = .require(try NIOSSLContext(configuration: c))
            }
        } catch {
            throw StationError.invalid(.database, "the TLS settings for the database cannot be used: \(error)")
        }
        var configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                             password: password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "stsvend")]
        self.configuration = configuration
        var logger = Logger(label: "stsvend.postgres")
        // postgres-nio's own logs could carry statement text; the station reports errors itself.
        logger.logLevel = .critical
        self.logger = logger
    }

    /// The database connections' own event loops. Station calls block their thread until the
    /// answer comes; were the connections on the loops the HTTP server's handlers run on, a handler
    /// waiting on a connection of its own loop would wait for ever.
    static let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// Runs `body` in a transaction opened with `begin` on a pooled connection. An idle connection
    /// the database dropped meanwhile (a restart) fails at `begin`, before anything was sent that
    /// could commit: it is thrown away and the transaction starts on a fresh connection.
    func inTransaction<T>(_ begin: String, _ body: (PostgresStoreDB) throws -> T) throws -> T {
        for attempt in 0..<capacity + 1 {
            var begun = false
            do {
                return try withConnection { db in
                    try db.execute(sql: begin)
                    begun = true
                    return try body(db)
                }
            } catch let e as StoreDBError where e.kind == .unreachable && !begun && attempt < capacity {
                continue
            }
        }
        throw StoreDBError(kind: .unreachable, message: "the database connection failed")
    }

    /// Runs `body` on a pooled connection. A connection that failed is closed, not returned.
    func withConnection<T>(_ body: (PostgresStoreDB) throws -> T) throws -> T {
        let connection = try checkOut()
        let db = PostgresStoreDB(connection: connection, logger: logger)
        do {
            let result = try body(db)
            checkIn(connection, broken: connection.isClosed)
            return result
        } catch {
            let broken = connection.isClosed || (error as? StoreDBError)?.kind == .unreachable
            checkIn(connection, broken: broken)
            throw error
        }
    }

    private func checkOut() throws -> PostgresConnection {
        condition.lock()
        while idle.isEmpty, opened >= capacity, !closed { condition.wait() }
        if closed { condition.unlock(); throw StoreDBError(kind: .unreachable, message: "the station is closing") }
        if let c = idle.popLast() { condition.unlock(); return c }
        opened += 1
        nextID += 1
        let id = nextID
        condition.unlock()
        do {
            return try PostgresConnection.connect(on: Self.eventLoops.next(), configuration: configuration,
                                                  id: id, logger: logger).wait()
        } catch {
            condition.lock()
            opened -= 1
            condition.signal()
            condition.unlock()
            throw Self.connectFailure(error, location)
        }
    }

    private func checkIn(_ c: PostgresConnection, broken: Bool) {
        condition.lock()
        if broken || closed {
            opened -= 1
            condition.unlock()
            // The connection must outlive its close (postgres-nio checks that it was closed before it goes).
            let closing: EventLoopFuture<Void> = c.close()
            closing.whenComplete { _ in withExtendedLifetime(c) {} }
        } else {
            idle.append(c)
            condition.unlock()
        }
        condition.signal()
    }

    deinit { close() }

    /// Closes every idle connection (the process is ending).
    func close() {
        condition.lock()
        closed = true
        let all = idle
        idle = []
        opened -= all.count
        condition.broadcast()
        condition.unlock()
        for c in all { let closing: EventLoopFuture<Void> = c.close(); try? closing.wait() }
    }

    static func connectFailure(_ error: Error, _ location: PostgresLocation) -> StoreDBError {
        let mapped = PostgresFailure.storeError(error)
        if mapped.kind == .permission {
            return StoreDBError(kind: .permission, message: "\(location.displayURL) refused the login (check the user and its password)")
        }
        if mapped.kind == .other, mapped.message.contains("3D000") {
            return StoreDBError(kind: .cannotOpen, message: "\(location.displayURL): the database does not exist (create it with createdb)")
        }
        return StoreDBError(kind: .unreachable, message: "\(location.displayURL) cannot be reached (is PostgreSQL running there?)")
    }

    /// Brings the schema forward: the same numbered migrations as the SQLite store, in
    /// PostgreSQL's types, under an advisory lock so stations starting together migrate once.
    func migrate() throws {
        try withConnection { db in
            try db.execute(sql: "BEGIN")
            do {
                try db.execute(sql: "SELECT pg_advisory_xact_lock(62055041)")
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY)")
                let done = Set(try String.fetchAll(db, sql: "SELECT version FROM schema_migrations"))
                for (name, sql) in StationSchema.migrations(for: .postgres) where !done.contains(name) {
                    for statement in StationSchema.statements(sql) { try db.execute(sql: statement) }
                    try db.execute(sql: "INSERT INTO schema_migrations (version) VALUES (?)", arguments: [name])
                }
                try db.execute(sql: "COMMIT")
            } catch {
                try? db.execute(sql: "ROLLBACK")
                throw error
            }
        }
    }
}
