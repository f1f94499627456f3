/// Hexadecimal text, the one implementation every module uses: upper-case for 64-bit values
/// people read (token fields), lower-case for hashes and key files; a lenient reader for what
/// people type and a strict one for what machines wrote.
public enum Hex {
    static let upper = Array("0123456789ABCDEF".utf8)
    static let lower = Array("0123456789abcdef".utf8)

    /// `digits` upper-case hex digits of `v`, most significant first (sixteen by default).
    public static func encode(_ v: UInt64, digits: Int = 16) -> String {
        var out = [UInt8](repeating: 0, count: digits)
        var x = v
        for i in stride(from: digits - 1, through: 0, by: -1) { out[i] = upper[Int(x & 0xF)]; x >>= 4 }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes as lower-case hex digits (ASCII bytes). Inlinable and table-free, so every log
    /// line's two hashes cost a few nanoseconds, not a generic walk (it was 5 % of a sale).
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        @inline(__always) func digit(_ v: UInt8) -> UInt8 { v < 10 ? v + 48 : v + 87 }
        for b in bytes {
            out.append(digit(b >> 4))
            out.append(digit(b & 15))
        }
        return out
    }

    /// Bytes as a lower-case hex string.
    @inlinable
    public static func string(_ bytes: some Sequence<UInt8>) -> String { String(decoding: encode(bytes), as: UTF8.self) }

    /// Bytes as an upper-case hex string, as people read card serials, ATRs and APDUs.
    public static func upper(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for b in bytes { out.append(upper[Int(b >> 4)]); out.append(upper[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex text people typed (either case, whitespace between digits ignored) as bytes; nil if
    /// malformed or an odd number of digits.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var pending: UInt8? = nil
        for c in text.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 65...70: v = c - 55
            case 97...102: v = c - 87
            case 32, 9, 10, 13: continue
            default: return nil
            }
            if let p = pending { out.append(p << 4 | v); pending = nil } else { pending = v }
        }
        return pending == nil ? out : nil
    }

    /// Machine-written hex: lower-case digits only, an even count (the log's and key files' form);
    /// nil for anything else.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var high: UInt8 = 0, odd = false
        for c in text {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            default: return nil
            }
            if odd { out.append(high << 4 | v) } else { high = v }
            odd.toggle()
        }
        return out
    }
}
