import Crypto
import CryptoExtras
import Foundation
import STSAuditLog
import STSBatch

/// The key that encrypts the station's secrets at rest (vending keys, the station's signing key,
/// second-factor secrets) with AES-256-GCM. It comes from a file: 64 hex digits are the key
/// itself; anything else is a passphrase stretched with scrypt (N = 2¹⁵, r = 8, p = 1) and the
/// station's salt. The file must not be readable by group or others.
public struct KeyEncryptionKey: Sendable {
    let key: SymmetricKey

    init(key: SymmetricKey) { self.key = key }

    /// A fresh random key, written in hex to `path` (mode 0600, never overwriting).
    public static func generate(writingTo path: String) throws -> KeyEncryptionKey {
        let key = SymmetricKey(size: .bits256)
        let hex = key.withUnsafeBytes { Hex.string($0) }
        try PrivateFile.create(path, contents: Array((hex + "\n").utf8))
        return KeyEncryptionKey(key: key)
    }

    /// Reads a key or passphrase file; `salt` is the station's KDF salt.
    public static func load(path: String, salt: [UInt8]) throws -> KeyEncryptionKey {
        var bytes = try SecretFile.read(path, what: "key-encryption key file")
        defer { for i in bytes.indices { bytes[i] = 0 } }
        while let last = bytes.last, last == 10 || last == 13 || last == 32 { bytes.removeLast() }
        if bytes.count == 64, var raw = Hex.decode(bytes.map { $0 >= 65 && $0 <= 70 ? $0 + 32 : $0 }) {
            defer { for i in raw.indices { raw[i] = 0 } }
            return KeyEncryptionKey(key: SymmetricKey(data: raw))
        }
        guard bytes.count >= 12 else { throw StationError.invalid(.kekFile, "a key-encryption passphrase must be at least 12 characters (or 64 hex digits)") }
        let key = try KDF.Scrypt.deriveKey(from: bytes, salt: salt, outputByteCount: 32, rounds: 1 << 15, blockSize: 8, parallelism: 1)
        return KeyEncryptionKey(key: key)
    }

    /// Encrypts `secret`, binding it to `purpose` (so one sealed value cannot stand in for another).
    func seal(_ secret: [UInt8], purpose: String) throws -> [UInt8] {
        Array(try AES.GCM.seal(secret, using: key, authenticating: Array(purpose.utf8)).combined!)
    }

    func open(_ sealed: Data, purpose: String) throws(StationError) -> [UInt8] { try open(Array(sealed), purpose: purpose) }

    /// Decrypts a sealed value; a wrong key or a swapped value fails as ``StationError/wrongKeyEncryptionKey``.
    func open(_ sealed: [UInt8], purpose: String) throws(StationError) -> [UInt8] {
        do {
            return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key, authenticating: Array(purpose.utf8)))
        } catch { throw .wrongKeyEncryptionKey }
    }
}

/// Files only the owner may read, created without ever existing with wider permissions.
public enum PrivateFile {
    /// Creates `path` (never overwriting) with mode 0600, writes `contents` and syncs it.
    public static func create(_ path: String, contents: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StationError.invalid(.file, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try write(contents, to: fd, path: path)
    }

    /// Creates `path` empty (never overwriting, mode 0600) before the work whose result it will
    /// hold, so the work never runs when its result could not be kept.
    public static func reserve(_ path: String) throws -> Reserved {
        try create(path, contents: [])
        return Reserved(path: path)
    }

    /// A reserved file: filled once the work succeeded, discarded if it failed.
    public struct Reserved {
        public let path: String

        public func fill(_ contents: [UInt8]) throws {
            let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else { throw StationError.store("cannot write \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            try PrivateFile.write(contents, to: fd, path: path)
        }

        public func discard() { unlink(path) }
    }

    /// Writes all of `contents` and syncs; a file that could not be written whole is removed:
    /// a torn key file must never be read later.
    static func write(_ contents: [UInt8], to fd: Int32, path: String) throws {
        func failed(_ what: String) -> StationError {
            let reason = String(cString: strerror(errno))
            unlink(path)
            return StationError.store("cannot \(what) \(path): \(reason)")
        }
        var written = 0
        while written < contents.count {
            let n = contents[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw failed("write") }
            written += n
        }
        guard fsync(fd) == 0 else { throw failed("sync") }
    }
}
