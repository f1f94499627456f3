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

/// Files only the owner may read, created without ever existing with wider permissions: the
/// station's face of `OwnerOnlyFile` (STSSupport), with its errors as station errors.
public enum PrivateFile {
    /// Creates `path` (never overwriting) with mode 0600, writes `contents` and syncs it.
    public static func create(_ path: String, contents: [UInt8]) throws {
        try station { () throws(OwnerOnlyFileError) in try OwnerOnlyFile.create(path, contents: contents) }
    }

    /// Creates `path` empty (never overwriting, mode 0600) before the work whose result it will
    /// hold, so the work never runs when its result could not be kept.
    public static func reserve(_ path: String) throws -> Reserved {
        try create(path, contents: [])
        return Reserved(path: path)
    }

    /// A reserved file: filled once the work succeeded, discarded if it failed.
    public struct Reserved {
        /// The reserved file's path (created empty, mode 0600).
        public let path: String

        /// Writes the work's result into the reserved file and syncs it.
        public func fill(_ contents: [UInt8]) throws {
            try PrivateFile.station { () throws(OwnerOnlyFileError) in try OwnerOnlyFile.fill(path, contents: contents) }
        }

        /// Removes the reserved file after the work failed.
        public func discard() { unlink(path) }
    }

    /// A file that cannot be created is a bad path given (`invalid-file`); one that cannot be
    /// written is storage (`storage`, exit 6).
    static func station(_ body: () throws(OwnerOnlyFileError) -> Void) throws(StationError) {
        do { try body() } catch {
            switch error {
            case let .cannotCreate(why): throw .invalid(.file, why)
            case let .cannotWrite(why), let .unreadable(why): throw .store(why)
            }
        }
    }
}
