import STSSupport
import Crypto

/// A SHA-256 value as four words: compared and stored without a heap array, since the
/// verifier holds one per line of logs with millions of lines.
public struct LogDigest: Hashable, Sendable, CustomStringConvertible {
    var words: (UInt64, UInt64, UInt64, UInt64)

    /// The previous hash of the first entry: 64 zeros.
    public static let genesis = LogDigest(words: (0, 0, 0, 0))

    init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The digest of 32 bytes, big-endian words.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var w: [UInt64] = [0, 0, 0, 0]
        for (k, b) in bytes.enumerated() { w[k / 8] = w[k / 8] << 8 | UInt64(b) }
        words = (w[0], w[1], w[2], w[3])
    }

    /// SHA-256 of `bytes`.
    public init(hashing bytes: UnsafeRawBufferPointer) {
        let digest = SHA256.hash(data: bytes)
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { raw in
            w = (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                 UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                 UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
        words = w
    }

    /// 64 lower-case hex digits (the log's form); nil for anything else.
    public init?(hex: UnsafeBufferPointer<UInt8>) {
        guard hex.count == 64, let p = hex.baseAddress else { return nil }
        let a = LogDigest.word(p), b = LogDigest.word(p + 16), c = LogDigest.word(p + 32), d = LogDigest.word(p + 48)
        guard a.valid && b.valid && c.valid && d.valid else { return nil }
        words = (a.value, b.value, c.value, d.value)
    }

    /// 16 lower-case hex digits as a word: eight digits at a time, checked and packed with
    /// word arithmetic (no branch per digit).
    @inline(__always) static func word(_ p: UnsafePointer<UInt8>) -> (value: UInt64, valid: Bool) {
        let a = eight(p), b = eight(p + 8)
        return (a.value << 32 | b.value, a.valid && b.valid)
    }

    @inline(__always) static func eight(_ p: UnsafePointer<UInt8>) -> (value: UInt64, valid: Bool) {
        let v = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        // For bytes below 0x80: (x + (0x80 − lo)) has its top bit iff x ≥ lo, (x + (0x7F − hi)) iff x > hi.
        @inline(__always) func between(_ lo: UInt64, _ hi: UInt64) -> UInt64 {
            (v &+ ones &* (0x80 - lo)) & ~(v &+ ones &* (0x7F - hi)) & high
        }
        let valid = v & high == 0 && (between(0x30, 0x39) | between(0x61, 0x66)) == high
        // '0'–'9' → low nibble; 'a'–'f' → low nibble + 9 (bit 6 set).
        let nibbles = (v & (ones &* 0x0F)) &+ ((v >> 6) & ones) &* 9
        // Pack: the first character (lowest byte) is the most significant nibble.
        let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00FF_00FF_00FF_00FF
        let quads = ((pairs << 8) | (pairs >> 16)) & 0x0000_FFFF_0000_FFFF
        let value = ((quads << 16) | (quads >> 32)) & 0xFFFF_FFFF
        return (value, valid)
    }

    /// The 32 digest bytes, in order.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [words.0, words.1, words.2, words.3] {
            for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
        }
        return out
    }

    /// 64 lower-case hex digits, as the log writes hashes.
    public var description: String { Hex.string(bytes) }

    /// Digests are equal when all 256 bits are.
    public static func == (a: LogDigest, b: LogDigest) -> Bool { a.words == b.words }
    /// Hashes the four words (for sets and dictionaries of digests).
    public func hash(into h: inout Hasher) {
        h.combine(words.0); h.combine(words.1); h.combine(words.2); h.combine(words.3)
    }
}
