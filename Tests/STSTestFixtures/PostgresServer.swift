import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL 15 server for the tests, never a system-wide service: `initdb` into a
/// temporary folder, started on a free port on 127.0.0.1 with password (SCRAM) authentication,
/// stopped and removed when the test process ends (also when a test fails). As root (CI) it runs
/// as the `postgres` user that Debian's package creates, since PostgreSQL refuses to run as root.
public final class PostgresServer: @unchecked Sendable {
    public static let bin = "/usr/lib/postgresql/15/bin"
    /// The superuser's password (also in `passwordFile`, mode 0600).
    public static let password = "pg-test-secret"

    public let folder: String
    public let port: Int
    public let passwordFile: String
    private let lock = NSLock()
    private var running = false
    private var databases = 0

    /// Whether PostgreSQL 15 is installed here (the README's test command installs it).
    public static var installed: Bool { FileManager.default.isExecutableFile(atPath: bin + "/postgres") }

    /// One server for the whole test process; each test makes its own database.
    public static let shared: PostgresServer? = try? PostgresServer()

    private static let all = NSLock()
    nonisolated(unsafe) private static var started: [PostgresServer] = []

    public init() throws {
        guard Self.installed else { throw PostgresServerError("PostgreSQL 15 is not installed (apt-get install -y postgresql-15)") }
        let base = FileManager.default.temporaryDirectory.path + "/sts-pg-\(getpid())-\(UUID().uuidString.prefix(8))"
        folder = base
        try FileManager.default.createDirectory(atPath: base + "/data", withIntermediateDirectories: true)
        passwordFile = base + "/pgpass.txt"
        FileManager.default.createFile(atPath: passwordFile, contents: Data((Self.password + "\n").utf8), attributes: [.posixPermissions: 0o600])
        port = Self.freePort()
        if geteuid() == 0 {
            // The postgres user must own its data folder and read the password file for initdb.
            _ = try Self.run("/bin/chown", ["-R", "postgres:postgres", base])
            chmod(base, 0o755)
        }
        let initdb = try Self.run(Self.bin + "/initdb", ["-D", base + "/data", "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                                                         "--pwfile=" + passwordFile, "-E", "UTF8", "--locale=C.UTF-8"], asPostgres: true)
        guard initdb == 0 else { throw PostgresServerError("initdb failed (\(initdb)); see \(base)") }
        // Durable as production: fsync and synchronous_commit stay on.
        let conf = """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(base)'
            max_connections = 200
            shared_buffers = 128MB
            fsync = on
            synchronous_commit = on
            log_min_messages = fatal
            """
        let confPath = base + "/data/postgresql.conf"
        let old = (try? String(contentsOfFile: confPath, encoding: .utf8)) ?? ""
        try (old + "\n" + conf + "\n").write(toFile: confPath, atomically: false, encoding: .utf8)
        try start()
        // The password file is the tests' (root's): owner-only again.
        if geteuid() == 0 { _ = try Self.run("/bin/chown", ["root:root", passwordFile]) }
        // Should the test process die without its exit handlers (a crash, SIGKILL), a watchdog
        // stops the server and removes its folder once the process is gone.
        let stop = (geteuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : "") + "\(Self.bin)/pg_ctl -D '\(base)/data' -m immediate stop"
        _ = try? ChildProcess("/bin/sh", ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf '\(base)'"])
        Self.all.lock()
        Self.started.append(self)
        if Self.started.count == 1 { atexit { PostgresServer.stopAll() } }
        Self.all.unlock()
    }

    /// `postgres://postgres@127.0.0.1:PORT/NAME?sslmode=disable`
    public func url(_ database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// A new, empty database with a unique name; returns its URL.
    public func newDatabase(_ prefix: String = "station") throws -> String {
        lock.lock()
        databases += 1
        let name = "\(prefix)_\(databases)_\(UInt32.random(in: 0...UInt32.max))"
        lock.unlock()
        let rc = try Self.run(Self.bin + "/createdb", ["-h", folder, "-p", String(port), "-U", "postgres", name], asPostgres: true)
        guard rc == 0 else { throw PostgresServerError("createdb \(name) failed (\(rc))") }
        return url(name)
    }

    public func start() throws {
        let rc = try Self.run(Self.bin + "/pg_ctl", ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "start"], asPostgres: true)
        guard rc == 0 else { throw PostgresServerError("pg_ctl start failed (\(rc)); see \(folder)/server.log") }
        lock.lock(); running = true; lock.unlock()
    }

    /// Stops the server: `fast` rolls back open transactions and closes connections, `immediate` is a crash.
    public func stop(mode: String = "fast") throws {
        _ = try Self.run(Self.bin + "/pg_ctl", ["-D", folder + "/data", "-m", mode, "-w", "-t", "60", "stop"], asPostgres: true)
        lock.lock(); running = false; lock.unlock()
    }

    /// Stops the server and removes its folder.
    public func destroy() {
        lock.lock()
        let wasRunning = running
        lock.unlock()
        if wasRunning { try? stop(mode: "immediate") }
        try? FileManager.default.removeItem(atPath: folder)
    }

    static func stopAll() {
        all.lock()
        let servers = started
        started = []
        all.unlock()
        for s in servers { s.destroy() }
    }

    /// Runs a PostgreSQL program (as the postgres user when the tests run as root); returns its exit status.
    @discardableResult
    static func run(_ path: String, _ args: [String], asPostgres: Bool = false) throws -> Int32 {
        let child: ChildProcess
        if asPostgres, geteuid() == 0 {
            child = try ChildProcess("/usr/sbin/runuser", ["-u", "postgres", "--", path] + args)
        } else {
            child = try ChildProcess(path, args)
        }
        return child.wait()
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

public struct PostgresServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
    /// The shared server could not start (PostgreSQL 15 missing, or initdb failed).
    public static let unavailable = PostgresServerError("the test PostgreSQL server did not start (is postgresql-15 installed?)")
}
