#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the files an auditor hands the verifier (the log, the public key) with errors in the
/// auditor's words: the path and the system's reason, nothing else.
public enum AuditInputFile {
    /// The whole file (at most `limit` bytes; more is refused).
    public static func bytes(_ path: String, limit: Int = Int.max) throws(AuditFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT != S_IFDIR else { throw .unreadable(path: path, reason: "it is a folder") }
        var out: [UInt8] = []
        out.reserveCapacity(max(0, Int(st.st_size)))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw .unreadable(path: path, reason: "it is larger than \(limit) bytes") }
        }
    }

    /// A small text file (the public key): at most 64 KiB.
    public static func text(_ path: String) throws(AuditFileError) -> String {
        let b = try bytes(path, limit: 1 << 16)
        return String(decoding: b, as: UTF8.self)
    }
}
