#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an owner-only file could not be read or written. The station and the batch front map it
/// to their own coded errors; the message names the file and what to do.
public enum OwnerOnlyFileError: CodedError, Equatable {
    /// The file cannot be opened, or is readable by group or others, or is too large.
    case unreadable(String)
    /// The file cannot be created (it exists, or its folder cannot be written).
    case cannotCreate(String)
    /// Writing or syncing failed; the torn file was removed.
    case cannotWrite(String)

    /// The stable error code (`unreadable-file`, `cannot-create-file`, `cannot-write-file`).
    public var code: String {
        switch self {
        case .unreadable: "unreadable-file"
        case .cannotCreate: "cannot-create-file"
        case .cannotWrite: "cannot-write-file"
        }
    }

    /// The message, naming the file and what to do.
    public var description: String {
        switch self {
        case let .unreadable(why), let .cannotCreate(why), let .cannotWrite(why): why
        }
    }
}

/// Files only their owner may read: keys, passwords, second-factor secrets, tokens. Read only
/// when no one else can read them; created 0600 whatever the umask, never over an existing file,
/// written whole and synced, or removed.
public enum OwnerOnlyFile {
    /// The bytes of `path` ("-" reads standard input), refused before a byte is read when group
    /// or others can read it, and when longer than `limit`. `what` names the file in messages.
    /// The caller wipes the result.
    public static func read(_ path: String, what: String, limit: Int = 1 << 20) throws(OwnerOnlyFileError) -> [UInt8] {
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .unreadable("cannot open \(what) \(path): \(String(cString: strerror(errno)))") }
            var st = stat()
            guard fstat(fd, &st) == 0 else { close(fd); throw .unreadable("cannot stat \(what) \(path)") }
            guard st.st_mode & 0o077 == 0 else {
                close(fd)
                throw .unreadable("\(what) \(path) can be read by group or others (mode \(String(st.st_mode & 0o777, radix: 8))); run: chmod 600 \(path)")
            }
        }
        defer { if fd != 0 { close(fd) } }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { for i in chunk.indices { chunk[i] = 0 } }
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, 4096) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw .unreadable("cannot read \(what) \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            guard out.count < limit else {
                for i in out.indices { out[i] = 0 }
                throw .unreadable("\(what) \(path) is too large")
            }
        }
        return out
    }

    /// Creates `path` (never overwriting) with mode 0600, writes `contents` and syncs it.
    public static func create(_ path: String, contents: [UInt8]) throws(OwnerOnlyFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotCreate("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try write(contents, to: fd, path: path)
        // The file's name is durable too: a key file that vanishes after a power cut can leave
        // whatever it opens unopenable.
        try syncFolder(of: path)
    }

    /// Syncs the folder holding `path`, so a file created or renamed in it survives a power cut.
    public static func syncFolder(of path: String) throws(OwnerOnlyFileError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotWrite("cannot open the folder of \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .cannotWrite("cannot sync the folder of \(path): \(String(cString: strerror(errno)))") }
    }

    /// Replaces the contents of an existing owner-only file (made by ``create(_:contents:)``).
    public static func fill(_ path: String, contents: [UInt8]) throws(OwnerOnlyFileError) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotWrite("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try write(contents, to: fd, path: path)
    }

    /// Writes all of `contents` and syncs; a file that could not be written whole is removed:
    /// a torn key file must never be read later.
    static func write(_ contents: [UInt8], to fd: Int32, path: String) throws(OwnerOnlyFileError) {
        func failed(_ what: String) -> OwnerOnlyFileError {
            let reason = String(cString: strerror(errno))
            unlink(path)
            return .cannotWrite("cannot \(what) \(path): \(reason)")
        }
        var written = 0
        while written < contents.count {
            let n = contents[written...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw failed("write") }
            written += n
        }
        guard fsync(fd) == 0 else { throw failed("sync") }
    }
}

// The C calls under names the enum's own `read`/`write` do not hide.
#if canImport(Glibc)
private let systemRead = Glibc.read
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemRead = Darwin.read
private let systemWrite = Darwin.write
#endif
