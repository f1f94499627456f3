#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the files an auditor hands the verifier (the log, the public key) with errors in the
/// auditor's words: the path and the system's reason, nothing else.
public enum AuditInputFile {
    /// The whole file.
    public static func bytes(_ path: String) throws(AuditFileError) -> [UInt8] {
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
        }
    }

    /// Runs `body` on the file's bytes mapped read-only into memory (a log of gigabytes is not
    /// copied); falls back to reading for files that cannot be mapped (pipes, empty files).
    public static func withMapped<T>(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw AuditFileError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw AuditFileError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT == S_IFREG, st.st_size > 0,
              let map = mmap(nil, Int(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED
        else {
            let b = try bytes(path)
            return try b.withUnsafeBufferPointer(body)
        }
        defer { munmap(map, Int(st.st_size)) }
        madvise(map, Int(st.st_size), MADV_SEQUENTIAL)
        return try body(UnsafeBufferPointer(start: map.assumingMemoryBound(to: UInt8.self), count: Int(st.st_size)))
    }

    /// A small text file (the public key): at most 64 KiB.
    public static func text(_ path: String) throws(AuditFileError) -> String {
        let b = try bytes(path)
        guard b.count <= 1 << 16 else { throw .unreadable(path: path, reason: "it is too large for a key file") }
        return String(decoding: b, as: UTF8.self)
    }
}
