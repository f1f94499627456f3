import Foundation
import STSBatch

/// Where a utility's PostgreSQL database is: `postgres://USER@HOST:PORT/DBNAME?sslmode=MODE`.
/// The password never comes from the URL (it would sit in argv and shell history): it comes
/// from `--db-password-file`, `PGPASSWORD` or `~/.pgpass` (`PGPASSFILE`), in that order.
public struct PostgresLocation: Sendable, Equatable {
    /// How TLS is used, as libpq's `sslmode` names it.
    public enum TLSMode: String, Sendable {
        /// Never TLS.
        case disable
        /// TLS when the server offers it, else plain (libpq's default is `prefer`).
        case prefer
        /// TLS required; the server's certificate is not checked.
        case require
        /// TLS required, and the certificate must chain to a trusted root (`sslrootcert` or the system's).
        case verifyCA = "verify-ca"
        /// As `verify-ca`, and the certificate must name the host.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var tls: TLSMode
    /// `sslrootcert`: the CA bundle that verifies the server (PEM).
    public var rootCertificate: String?

    /// True for a `--db` value that names PostgreSQL rather than an SQLite file.
    public static func isURL(_ s: String) -> Bool { s.hasPrefix("postgres://") || s.hasPrefix("postgresql://") }

    /// Parses a URL; refuses one that carries a password or anything it does not understand.
    public init(url s: String) throws(StationError) {
        guard Self.isURL(s), s.utf8.count <= 2_048, let c = URLComponents(string: s) else {
            throw .invalid(.database, "not a PostgreSQL URL (postgres://USER@HOST:PORT/DBNAME)")
        }
        if c.password != nil {
            throw .invalid(.database, "the database URL carries a password: put it in a 0600 file (--db-password-file), PGPASSWORD or ~/.pgpass instead")
        }
        host = c.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        port = c.port ?? 5432
        guard (1...65_535).contains(port) else { throw .invalid(.database, "the database port must be 1–65535") }
        user = c.user ?? ProcessInfo.processInfo.environment["PGUSER"] ?? "postgres"
        let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        database = path.isEmpty ? user : path
        guard !database.contains("/") else { throw .invalid(.database, "the database name may not contain '/'") }
        tls = .prefer
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let v = item.value, let mode = TLSMode(rawValue: v) else {
                    throw .invalid(.database, "sslmode must be disable, prefer, require, verify-ca or verify-full")
                }
                tls = mode
            case "sslrootcert": rootCertificate = item.value
            case "connect_timeout", "application_name": continue
            default: throw .invalid(.database, "the database URL has an option the station does not know: \(item.name)")
            }
        }
    }

    /// The URL as shown in logs and messages (it never holds a password).
    public var displayURL: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// The password: the file first, then PGPASSWORD, then the pgpass file; nil for none
    /// (trust or peer authentication).
    public func password(file: String?) throws(StationError) -> String? {
        if let file {
            var bytes: [UInt8]
            do { bytes = try SecretFile.read(file, what: "database password file") } catch { throw StationError.invalid(.database, "\(error)") }
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        let env = ProcessInfo.processInfo.environment
        if let p = env["PGPASSWORD"] { return p }
        let passfile = env["PGPASSFILE"] ?? (env["HOME"].map { $0 + "/.pgpass" })
        guard let passfile, let text = try? String(contentsOfFile: passfile, encoding: .utf8) else { return nil }
        // libpq ignores a pgpass file others can read; so does the station.
        var st = stat()
        guard stat(passfile, &st) == 0, st.st_mode & 0o077 == 0 else { return nil }
        return Self.pgpassLookup(text, host: host, port: port, database: database, user: user)
    }

    /// The first matching line of a pgpass file (`host:port:database:user:password`, `*` matches
    /// anything, `\` escapes `:` and `\`).
    static func pgpassLookup(_ text: String, host: String, port: Int, database: String, user: String) -> String? {
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where !line.hasPrefix("#") {
            var fields: [String] = [], current = "", escaped = false
            for ch in line {
                if escaped { current.append(ch); escaped = false } else if ch == "\\" { escaped = true } else if ch == ":", fields.count < 4 {
                    fields.append(current); current = ""
                } else { current.append(ch) }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}
