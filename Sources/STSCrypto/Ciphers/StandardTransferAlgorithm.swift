/// EA07, the Standard Transfer Algorithm: 16 rounds of a key-selected 4-bit substitution and a
/// fixed 64-bit permutation, with the key rotated one bit per round.
///
/// Each round key is `rotate_right(NOT key, 12)` rotated left once per round. In each round,
/// nibble n is substituted by S1 if bit 4n+3 of the round key is 0 and by S2 if it is 1, then
/// the 64 bits are permuted (source bit i goes to bit P[i]).
///
/// For speed, substitution and permutation are merged into one table per byte position and per
/// pair of selecting key bits: a round is 8 table look-ups and 8 ORs, with no allocation.
public enum StandardTransferAlgorithm {
    /// A set of S-boxes and permutation.
    public struct Tables: @unchecked Sendable {  // immutable after init
        /// S-box S1: 16 nibble substitutions, used for nibbles whose selecting round-key bit is 0.
        public let s1: [UInt8]
        /// S-box S2: 16 nibble substitutions, used for nibbles whose selecting round-key bit is 1.
        public let s2: [UInt8]
        /// `p[i]` is the destination of source bit i.
        public let p: [UInt8]

        /// Substitution + permutation, indexed `[(byte position · 4 + key bits) · 256 + byte]`.
        let forward: UnsafePointer<UInt64>
        /// Inverse substitution followed by inverse permutation, same indexing.
        let inverse: UnsafePointer<UInt64>
        /// Inverse permutation alone, indexed `[byte position · 256 + byte]`.
        let inversePermutation: UnsafePointer<UInt64>
        /// Inverse substitution alone, indexed `[key bits · 256 + byte]`.
        let inverseSubstitution: UnsafePointer<UInt8>

        /// The inverse S-boxes and permutation, computed from the forward ones.
        public var s1Inverse: [UInt8] { Self.invert(s1) }
        /// The inverse of S2 (see ``s1Inverse``).
        public var s2Inverse: [UInt8] { Self.invert(s2) }
        /// The inverse permutation: `pInverse[j]` is the source of destination bit j.
        public var pInverse: [UInt8] { Self.invert(p) }

        /// Builds the merged tables; they live for the process (a few tens of kilobytes).
        public init(s1: [UInt8], s2: [UInt8], p: [UInt8]) {
            precondition(s1.count == 16 && s2.count == 16 && p.count == 64)
            self.s1 = s1
            self.s2 = s2
            self.p = p
            let s1i = Self.invert(s1), s2i = Self.invert(s2), pi = Self.invert(p)
            func permute(_ byte: Int, at position: Int, _ perm: [UInt8]) -> UInt64 {
                var out: UInt64 = 0
                for bit in 0..<8 where byte >> bit & 1 == 1 { out |= 1 << UInt64(perm[position * 8 + bit]) }
                return out
            }
            func substitute(_ byte: Int, _ sel: Int, _ a: [UInt8], _ b: [UInt8]) -> Int {
                let lo = Int((sel & 1 == 0 ? a : b)[byte & 0xF])
                let hi = Int((sel & 2 == 0 ? a : b)[byte >> 4])
                return hi << 4 | lo
            }
            let fwd = UnsafeMutablePointer<UInt64>.allocate(capacity: 8 * 4 * 256)
            let inv = UnsafeMutablePointer<UInt64>.allocate(capacity: 8 * 4 * 256)
            let invP = UnsafeMutablePointer<UInt64>.allocate(capacity: 8 * 256)
            let invS = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 * 256)
            for position in 0..<8 {
                for byte in 0..<256 {
                    invP[position * 256 + byte] = permute(byte, at: position, pi)
                    for sel in 0..<4 {
                        let i = (position * 4 + sel) * 256 + byte
                        fwd[i] = permute(substitute(byte, sel, s1, s2), at: position, p)
                        inv[i] = permute(substitute(byte, sel, s1i, s2i), at: position, pi)
                    }
                }
            }
            for sel in 0..<4 { for byte in 0..<256 { invS[sel * 256 + byte] = UInt8(substitute(byte, sel, s1i, s2i)) } }
            forward = UnsafePointer(fwd)
            inverse = UnsafePointer(inv)
            inversePermutation = UnsafePointer(invP)
            inverseSubstitution = UnsafePointer(invS)
        }

        static func invert(_ table: [UInt8]) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: table.count)
            for (i, v) in table.enumerated() { out[Int(v)] = UInt8(i) }
            return out
        }

        /// The tables every STS meter uses; they reproduce all public compliance vectors.
        public static let standard = Tables(
            s1: [14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11],
            s2: [12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14],
            p: [55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50,
                6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4, 32, 20, 63, 25,
                51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5,
                40, 60, 39, 11, 15, 17, 1, 0, 57, 34, 59, 8, 47, 14, 45, 26])

        /// The illustrative "sample" tables printed with the algorithm's description; only for
        /// checking the round structure against the published worked example.
        public static let sample = Tables(
            s1: [12, 10, 8, 4, 3, 15, 0, 2, 14, 1, 5, 13, 6, 9, 7, 11],
            s2: [6, 9, 7, 4, 3, 10, 12, 14, 2, 13, 1, 15, 0, 11, 8, 5],
            p: [29, 27, 34, 9, 16, 62, 55, 2, 40, 49, 38, 25, 33, 61, 30, 23,
                1, 41, 21, 57, 42, 15, 5, 58, 19, 53, 22, 17, 48, 28, 24, 39,
                3, 60, 36, 14, 11, 52, 54, 12, 31, 51, 10, 26, 0, 45, 37, 43,
                44, 6, 59, 4, 7, 35, 56, 50, 13, 18, 32, 47, 46, 63, 20, 8])
    }

    /// The key bits that choose S1/S2 for both nibbles of every byte: bit 8j+3 → bit 8j,
    /// bit 8j+7 → bit 8j+1.
    @inline(__always) static func selectors(_ k: UInt64) -> UInt64 {
        (k >> 3) & 0x0101_0101_0101_0101 | (k >> 6) & 0x0202_0202_0202_0202
    }

    @inline(__always) static func firstRoundKey(_ key: UInt64) -> UInt64 {
        let n = ~key
        return n >> 12 | n << 52
    }

    /// Encrypts one 64-bit block.
    public static func encrypt(_ block: UInt64, key: UInt64, tables: Tables = .standard) -> UInt64 {
        let t = tables.forward
        var k = firstRoundKey(key)
        var d = block
        for _ in 0..<16 {
            d = merged(d, selectors(k), t)
            k = k << 1 | k >> 63
        }
        return d
    }

    /// Decrypts one 64-bit block.
    public static func decrypt(_ block: UInt64, key: UInt64, tables: Tables = .standard) -> UInt64 {
        let k0 = firstRoundKey(key)
        let invP = tables.inversePermutation
        var d: UInt64 = 0
        for j in 0..<8 { d |= invP[j << 8 | Int(truncatingIfNeeded: block >> UInt64(8 * j)) & 0xFF] }
        var r: UInt64 = 15
        while r >= 1 {
            let k = k0 << r | k0 >> (64 - r)
            d = merged(d, selectors(k), tables.inverse)
            r -= 1
        }
        let sel = selectors(k0)
        let invS = tables.inverseSubstitution
        var out: UInt64 = 0
        for j in 0..<8 {
            let shift = UInt64(8 * j)
            let s = Int(truncatingIfNeeded: sel >> shift) & 3
            out |= UInt64(invS[s << 8 | Int(truncatingIfNeeded: d >> shift) & 0xFF]) << shift
        }
        return out
    }

    /// One merged substitution/permutation step: 8 look-ups.
    @inline(__always) static func merged(_ d: UInt64, _ sel: UInt64, _ t: UnsafePointer<UInt64>) -> UInt64 {
        var out: UInt64 = 0
        for j in 0..<8 {
            let shift = UInt64(8 * j)
            let s = Int(truncatingIfNeeded: sel >> shift) & 3
            out |= t[(j << 2 | s) << 8 | Int(truncatingIfNeeded: d >> shift) & 0xFF]
        }
        return out
    }
}
