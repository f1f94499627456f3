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

    /// 16 lower-case hex digits as a word, all decoded and checked without a branch per digit.
    @inline(__always) static func word(_ p: UnsafePointer<UInt8>) -> (value: UInt64, valid: Bool) {
        var w: UInt64 = 0
        var bad: UInt8 = 0
        for k in 0..<16 {
            let c = p[k]
            let digit = c &- 48, letter = c &- 97
            let isDigit = digit < 10
            bad |= (isDigit || letter < 6) ? 0 : 1
            w = w << 4 | UInt64(isDigit ? digit : letter &+ 10)
        }
        return (w, bad == 0)
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for w in [words.0, words.1, words.2, words.3] {
            for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
        }
        return out
    }

    public var description: String { Hex.string(bytes) }

    public static func == (a: LogDigest, b: LogDigest) -> Bool { a.words == b.words }
    public func hash(into h: inout Hasher) {
        h.combine(words.0); h.combine(words.1); h.combine(words.2); h.combine(words.3)
    }
}
