#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import STSCrypto
import STSMeter
import STSTokenFormat

/// Why a state file could not be used.
public enum StateFileError: CodedError, Equatable {
    /// No state file at the path (create one with `stsvend meter init`).
    case missing(String)
    /// The state file can be read by group or others; it holds the decoder key, so it is refused.
    case permissions(String)
    /// The state file is truncated, fails its checksum or is not a valid state document; restore it from a backup.
    case corrupt(String)
    /// Opening, reading, locking, creating or replacing the file failed.
    case io(String)
    /// A new meter was to be created where a state file already exists (never overwritten).
    case exists(String)

    /// The stable error code scripts match on (`no-state`, `state-permissions`, `corrupt-state`, `io`, `state-exists`).
    public var code: String {
        switch self {
        case .missing: return "no-state"
        case .permissions: return "state-permissions"
        case .corrupt: return "corrupt-state"
        case .io: return "io"
        case .exists: return "state-exists"
        }
    }

    /// The message shown to the user, with what to do about it.
    public var description: String {
        switch self {
        case let .missing(p): return "no meter state at \(p): create one with 'stsvend meter init --state \(p) …'"
        case let .permissions(why), let .corrupt(why), let .io(why): return why
        case let .exists(p): return "\(p) already holds a meter state; remove it first to start a new meter"
        }
    }
}

/// The meter state on disk: JSON, then a line `sha256:<hex>` over the JSON bytes.
///
/// Saving writes a temporary file in the same folder (mode 0600: the state holds the decoder
/// key), fsyncs it, renames it over the old file and fsyncs the folder, so after a crash the
/// file is the old state or the new one, never a mix. Loading refuses a file whose checksum,
/// format or permissions are wrong; nothing is ever reset silently.
public enum StateFile {
    /// Where fault-injection tests may stop the process (`STSVEND_FAULT=<point>`).
    public enum FaultPoint: String { case afterTemporaryWrite = "after-temp-write", beforeRename = "before-rename", afterRename = "after-rename" }

    static func fault(_ point: FaultPoint) {
        if ProcessInfo.processInfo.environment["STSVEND_FAULT"] == point.rawValue { abort() }
    }

    /// Reads and checks the meter state at `path`: refused when others can read it, truncated, or fails its checksum.
    public static func load(_ path: String) throws -> SimulatedMeter {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw StateFileError.missing(path) }
            throw StateFileError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StateFileError.io("cannot stat \(path)") }
        guard st.st_mode & 0o077 == 0 else {
            throw StateFileError.permissions("meter state \(path) holds the decoder key and can be read by group or others; run: chmod 600 \(path)")
        }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw StateFileError.io("cannot read \(path)") }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        defer { wipe(&data); wipe(&chunk) }
        return try decode(data, path: path)
    }

    /// Checks and reads a state file's bytes (`path` is used in messages).
    public static func decode(_ data: [UInt8], path: String) throws -> SimulatedMeter {
        // The last line is the checksum of everything before it.
        guard data.last == 10, let split = data.dropLast().lastIndex(of: 10) else {
            throw StateFileError.corrupt("meter state \(path) is truncated (no checksum line); restore it from a backup")
        }
        let body = Array(data[..<split])
        let trailer = String(decoding: data[(split + 1)..<(data.count - 1)], as: UTF8.self)
        let digest = Hex.string(SHA256.hash(data: body))
        guard trailer == "sha256:" + digest else {
            throw StateFileError.corrupt("meter state \(path) fails its integrity check (corrupted or edited); restore it from a backup")
        }
        do {
            let document = try JSONDecoder().decode(StateDocument.self, from: Data(body))
            return try document.meter()
        } catch let e as StateFileError {
            throw e
        } catch {
            throw StateFileError.corrupt("meter state \(path) is not a valid state document: \(error)")
        }
    }

    /// Loads, changes and saves the state while holding an exclusive lock (`PATH.lock`), so
    /// concurrent commands on one meter (keypad, enter, run) never lose each other's changes.
    public static func update<T>(_ path: String, _ change: (inout SimulatedMeter) throws -> T) throws -> T {
        let lock = open(path + ".lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0o600)
        guard lock >= 0 else { throw StateFileError.io("cannot open the lock file \(path).lock: \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StateFileError.io("cannot lock \(path).lock: \(String(cString: strerror(errno)))") }
        }
        var meter = try load(path)
        let result = try change(&meter)
        try save(meter, to: path)
        return result
    }

    /// Writes the state atomically and durably.
    public static func save(_ meter: SimulatedMeter, to path: String) throws {
        let temporary = try writeTemporary(meter, for: path)
        fault(.beforeRename)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw StateFileError.io("cannot replace \(path): \(String(cString: strerror(errno))); the previous state is unchanged")
        }
        fault(.afterRename)
        syncFolder(of: path)
    }

    /// Creates a new state file; refuses to overwrite an existing one, even one created a moment
    /// earlier by another process (the final name is taken with link(2), which never replaces).
    public static func create(_ meter: SimulatedMeter, at path: String) throws {
        let temporary = try writeTemporary(meter, for: path)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { throw StateFileError.exists(path) }
            throw StateFileError.io("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        syncFolder(of: path)
    }

    static func syncFolder(of path: String) {
        let dir = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 { fsync(dir); close(dir) }
    }

    /// Writes and fsyncs `.NAME.tmp-PID` beside `path` (mode 0600, never through an existing
    /// file or link) and returns its path.
    static func writeTemporary(_ meter: SimulatedMeter, for path: String) throws -> String {
        var body = try encode(meter)
        defer { wipe(&body) }
        let digest = Hex.string(SHA256.hash(data: body))
        var bytes = body + Array("\nsha256:\(digest)\n".utf8)
        defer { wipe(&bytes) }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw StateFileError.io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o600)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let why = String(cString: strerror(errno))
                close(fd); unlink(temporary)
                throw StateFileError.io("cannot write the meter state (\(why)); the previous state is unchanged")
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            close(fd); unlink(temporary)
            throw StateFileError.io("cannot sync the meter state; the previous state is unchanged")
        }
        close(fd)
        fault(.afterTemporaryWrite)
        return temporary
    }

    static func encode(_ meter: SimulatedMeter) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(StateDocument(meter)))
    }
}
