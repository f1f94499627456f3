import ArgumentParser
import Foundation
import STSBatch
import STSStation
import STSTariff

/// Which station, and the key that opens its secrets.
struct StationOptions: ParsableArguments {
    @Option(help: "The station database: an SQLite file, or postgres://USER@HOST:PORT/DBNAME[?sslmode=…] shared by many stations.")
    var db: String

    @Option(help: "Key-encryption key file: 64 hex digits, or a passphrase (default: DB.kek beside an SQLite file, DBNAME.kek for PostgreSQL; mode 0600).")
    var kekFile: String?

    @Option(help: "Which station of a PostgreSQL database acts (default: the first one made).")
    var station: String?

    @Option(help: "File holding the PostgreSQL password (mode 0600); else PGPASSWORD or ~/.pgpass. Never in the URL.")
    var dbPasswordFile: String?

    /// Opens the station. STSVEND_NOW sets the clock of test stations only: a station that keeps
    /// real time refuses it rather than write a false time into its signed log.
    func open() throws -> Station { try Self.open(db: db, kekFile: kekFile, station: station, dbPasswordFile: dbPasswordFile) }

    static func open(db: String, kekFile: String?, station name: String? = nil, dbPasswordFile: String? = nil) throws -> Station {
        let clock = try ClockOverride.value()
        let station = try Station.open(path: db, kekPath: kekFile, stationName: name, passwordFile: dbPasswordFile)
        if let clock {
            guard station.testClock else { throw StationError.clockOverrideRefused }
            station.now = { clock }
        }
        return station
    }
}

/// Who acts: every command that changes or reads the station names and authenticates its user.
struct ActorOptions: ParsableArguments {
    @Option(help: "The acting user.")
    var user: String

    @Option(help: "File holding the user's password (mode 0600); without it the password is asked for on the terminal.")
    var passwordFile: String?

    @Option(help: "The current code from the user's authenticator (supervisor actions on tariffs and keys).")
    var totp: String?

    func authenticate(_ station: Station, action: String) throws -> Actor {
        try Self.authenticate(station, user: user, passwordFile: passwordFile, totp: totp, action: action)
    }

    static func authenticate(_ station: Station, user: String, passwordFile: String?, totp: String?, action: String) throws -> Actor {
        var password = try readPassword(passwordFile)
        defer { for i in password.indices { password[i] = 0 } }
        return try station.authenticate(user: user, password: password, totp: totp, action: action)
    }
}

/// A password from a 0600 file (one line) or, without a file, from the terminal.
func readPassword(_ path: String?, prompt: String = "Password: ") throws -> [UInt8] {
    var bytes: [UInt8]
    if let path {
        do { bytes = try SecretFile.read(path, what: "password file") } catch { throw ValidationError(error.description) }
    } else {
        guard isatty(0) == 1, let p = getpass(prompt) else {
            throw ValidationError("no --password-file given and no terminal to ask for the password")
        }
        bytes = Array(String(cString: p).utf8)
    }
    while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
    return bytes
}

/// Runs a station command: station errors go to stderr as `error: [code] message` with their exit code
/// (3 authentication or permission, 4 not found, 5 refused by the rules, 6 storage).
func runStation(_ body: () throws -> Void) throws {
    do { try body() } catch let e as ValidationError { throw usageFailure(e.message) } catch let e as ExitCode { throw e } catch let e as StationError {
        FileHandle.standardError.write(Data("error: [\(e.code)] \(e)\n".utf8))
        throw ExitCode(e.exitCode)
    } catch { throw fail(error) }
}

func printError(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// "12.3" for 123 tenths.
func kWh(_ tenths: Int64) -> String { EnergyAmount.text(tenths: tenths) }
