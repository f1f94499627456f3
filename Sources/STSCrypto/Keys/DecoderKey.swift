import Crypto
import STSTokenFormat

/// A meter's decoder key: 64 bits for EA07/EA09, 128 bits for EA11.
///
/// It is a secret. Its `description`, `debugDescription` and mirror are redacted, so printing
/// or logging a value that holds one never shows it. It is a plain value (no heap storage) so
/// deriving one per token costs no allocation; that also means it cannot be wiped on release,
/// so keep long-lived keys in ``VendingKey`` or in files, not in decoder keys you keep around.
public struct DecoderKey: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Key bytes 0–7, big-endian (the whole key for 64-bit keys).
    @usableFromInline let first: UInt64
    /// Key bytes 8–15 (0 for 64-bit keys).
    @usableFromInline let second: UInt64
    /// 64 or 128.
    public let bitCount: Int

    /// A 64-bit key from its big-endian value.
    @inlinable public init(_ value: UInt64) {
        first = value
        second = 0
        bitCount = 64
    }

    /// A 128-bit key from its two big-endian halves.
    @inlinable public init(high: UInt64, low: UInt64) {
        first = high
        second = low
        bitCount = 128
    }

    /// A key from 8 or 16 bytes in natural (big-endian) order.
    public init(bytes: some Collection<UInt8>) throws(KeyError) {
        let b = Array(bytes)
        switch b.count {
        case 8: self.init(Self.load(b, 0))
        case 16: self.init(high: Self.load(b, 0), low: Self.load(b, 8))
        default: throw .wrongLength(what: "decoder key", expectedBits: [64, 128], gotBits: b.count * 8)
        }
    }

    /// A key from 16 or 32 hex digits, natural order.
    public init(hex: String) throws(KeyError) {
        guard var bytes = Hex.decode(hex) else { throw .notHex(what: "decoder key") }
        defer { wipe(&bytes) }
        try self.init(bytes: bytes)
    }

    /// The key bytes, for writing a key file or loading a meter. Handle with care.
    public func revealBytes() -> [UInt8] {
        var out: [UInt8] = []
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: first >> (56 - 8 * UInt64(i)))) }
        if bitCount == 128 { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: second >> (56 - 8 * UInt64(i)))) } }
        return out
    }

    /// A short non-secret fingerprint (first 3 bytes of SHA-256 of the key, hex) that lets two
    /// parties confirm they hold the same key without showing it.
    public var checkValue: String {
        var bytes = revealBytes()
        defer { wipe(&bytes) }
        let digest = Array(SHA256.hash(data: bytes))
        return digest.prefix(3).map { Hex.encode(UInt64($0), digits: 2) }.joined()
    }

    /// The 64-bit key bits for the 64-bit algorithms.
    @inlinable var value64: UInt64 { first }

    /// Redacted: says only the key length, never the key.
    public var description: String { "DecoderKey(\(bitCount)-bit, redacted)" }
    /// Redacted, the same as ``description``.
    public var debugDescription: String { description }
    /// A mirror that shows only the key length, so `dump` and debuggers never reveal the key.
    public var customMirror: Mirror { Mirror(self, children: ["bits": bitCount]) }

    static func load(_ b: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(b[at + $1]) }
    }
}
