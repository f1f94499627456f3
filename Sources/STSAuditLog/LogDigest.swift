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
        guard hex.count == 64 else { return nil }
        func word(_ j: Int) -> UInt64? {
            var w: UInt64 = 0
            for k in (16 * j)..<(16 * j + 16) {
                let c = hex[k]
                switch c {
                case 48...57: w = w << 4 | UInt64(c - 48)
                case 97...102: w = w << 4 | UInt64(c - 87)
                default: return nil
                }
            }
            return w
        }
        guard let a = word(0), let b = word(1), let c = word(2), let d = word(3) else { return nil }
        words = (a, b, c, d)
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
