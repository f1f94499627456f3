/// The property harness's input generator: seeds, then mutations of them (bit flips, byte
/// changes, insertions, deletions, splices, boundary numbers) from a seeded generator, so a run
/// is repeatable from its seed.
public struct Mutator {
    var state: UInt64
    let seeds: [[UInt8]]

    /// A generator over `seeds` (one empty input when none); the same `seed` gives the same inputs, so a failing run can be replayed.
    public init(seed: UInt64, seeds: [[UInt8]]) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
        self.seeds = seeds.isEmpty ? [[]] : seeds
    }

    mutating func next() -> UInt64 {
        // xorshift64*
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    static let interesting: [[UInt8]] = ["0", "-1", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
                                         "1e400", "\"", "\\u0000", "\\ud800", "{", "[", "]", "}", ",", ":", "null",
                                         "\u{7}", "999999999999999.99", "18201624", "253402300799", "\n"].map { Array($0.utf8) }

    /// The next input: a seed changed 1–8 times.
    public mutating func input() -> [UInt8] {
        var b = seeds[below(seeds.count)]
        for _ in 0..<(1 + below(8)) {
            switch below(7) {
            case 0 where !b.isEmpty: b[below(b.count)] ^= UInt8(1 << below(8))
            case 1 where !b.isEmpty: b[below(b.count)] = UInt8(truncatingIfNeeded: next())
            case 2: b.insert(UInt8(truncatingIfNeeded: next()), at: below(b.count + 1))
            case 3 where !b.isEmpty: b.remove(at: below(b.count))
            case 4:
                let other = seeds[below(seeds.count)]
                let cut = below(b.count + 1), from = below(other.count + 1)
                b = Array(b[..<cut]) + Array(other[from...])
            case 5:
                let word = Self.interesting[below(Self.interesting.count)]
                let at = below(b.count + 1)
                b.insert(contentsOf: word, at: at)
            default:
                if !b.isEmpty {
                    let at = below(b.count), n = min(b.count - at, 1 + below(16))
                    b.removeSubrange(at..<(at + n))
                }
            }
        }
        return b.count > 1 << 16 ? Array(b.prefix(1 << 16)) : b
    }
}
