#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import STSCrypto
import STSTokenFormat

/// Reads key material from a file (or standard input) the way a key custodian expects:
/// a file that group or others can read is refused before a byte of it is read.
public enum SecretFile {
    /// The file's bytes. `path` "-" reads standard input. The caller wipes the result. `what`
    /// names the file in messages ("key file", "password file", …).
    public static func read(_ path: String, what: String = "key file") throws(BatchError) -> [UInt8] {
        do { return try OwnerOnlyFile.read(path, what: what) } catch { throw .keyFile(error.description) }
    }

    /// A key file holding one key in hex (whitespace and a trailing newline allowed).
    public static func hexKey(_ path: String) throws(BatchError) -> [UInt8] {
        var text = try read(path)
        defer { wipe(&text) }
        guard let bytes = Hex.decode(String(decoding: text, as: UTF8.self)), !bytes.isEmpty else {
            throw .keyFile("key file \(path) must hold the key as hexadecimal digits")
        }
        return bytes
    }

    /// Builds a key from a hex key file, wiping the file's bytes afterwards.
    public static func key<K>(_ path: String, _ make: ([UInt8]) throws -> K) throws -> K {
        var bytes = try hexKey(path)
        defer { wipe(&bytes) }
        return try make(bytes)
    }

    /// Writes `key` in hex (and a newline) to a new file at `path`: created owner-only (0600),
    /// never over an existing file, synced before returning. The hex text is wiped afterwards.
    public static func create(_ path: String, hexKey key: [UInt8]) throws(BatchError) {
        var hex = Array(key.map { Hex.encode(UInt64($0), digits: 2) }.joined().utf8) + [10]
        defer { wipe(&hex) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .io("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard hex.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == hex.count, fsync(fd) == 0 else {
            throw .io("cannot write \(path)")
        }
    }

    /// A keys file: a JSON object of key names to hex vending keys.
    public static func vendingKeys(_ path: String) throws -> [String: VendingKey] {
        var text = try read(path)
        defer { wipe(&text) }
        let json: JSON
        do { json = try text.withUnsafeBufferPointer { (b) throws(JSONSyntaxError) -> JSON in try JSON.parse(b) } }
        catch { throw BatchError.keyFile("keys file \(path) is not valid JSON (\(error))") }
        guard let object = json.object else { throw BatchError.keyFile("keys file \(path) must be a JSON object of name → hex key") }
        var keys: [String: VendingKey] = [:]
        for (name, value) in object.pairs {
            guard let hex = value.string else { throw BatchError.keyFile("key '\(name)' in \(path) is not a hex string") }
            do { keys[name] = try VendingKey(hex: hex) }
            catch { throw BatchError.keyFile("key '\(name)' in \(path): \(error)") }
        }
        return keys
    }
}
