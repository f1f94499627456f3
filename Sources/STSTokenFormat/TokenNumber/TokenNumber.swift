/// The 66-bit token the customer types: the encrypted 64-bit block with the 2 class bits spliced
/// in, written as 20 decimal digits.
///
/// The class bits replace bits 28 and 27 of the encrypted block, and the two bits they displace
/// move to bits 65 and 64. Decoding reverses that; the first digit is therefore 0–7.
public struct TokenNumber: Hashable, Sendable, CustomStringConvertible {
    /// Bits 65..64 (0–3).
    public let high: UInt8
    /// Bits 63..0.
    public let low: UInt64

    /// A token number from its two parts: bits 65..64 (`high`, masked to 2 bits) and bits 63..0.
    @inlinable public init(high: UInt8, low: UInt64) {
        self.high = high & 3
        self.low = low
    }

    /// Splices the class into an encrypted (class 1: plain) block.
    @inlinable public init(block: UInt64, tokenClass: TokenClass) {
        let displaced = UInt8(truncatingIfNeeded: block >> 27) & 3
        high = displaced
        low = block & ~(UInt64(3) << 27) | UInt64(tokenClass.rawValue) << 27
    }

    /// Parses 20 digits; spaces and hyphens between groups are allowed (`7063 0503 4700 2872 6114`).
    public init(_ text: String) throws(TokenDecodingError) {
        var upper: UInt64 = 0
        var lower: UInt64 = 0
        var count = 0
        for c in text.utf8 {
            if c == 32 || c == 45 { continue }
            guard c >= 48, c <= 57, count < 20 else { throw .format(text) }
            if count < 10 { upper = upper * 10 + UInt64(c - 48) } else { lower = lower * 10 + UInt64(c - 48) }
            count += 1
        }
        guard count == 20 else { throw .format(text) }
        // value = upper·10^10 + lower, as 128 bits.
        let (hi, lo) = upper.multipliedFullWidth(by: 10_000_000_000)
        let (sum, carry) = lo.addingReportingOverflow(lower)
        let top = hi + (carry ? 1 : 0)
        guard top < 4 else { throw .format(text) }
        self.init(high: UInt8(top), low: sum)
    }

    /// The class in bits 28..27.
    @inlinable public var tokenClass: TokenClass { TokenClass(rawValue: UInt8(truncatingIfNeeded: low >> 27) & 3)! }

    /// The encrypted (class 1: plain) block with the displaced bits restored.
    @inlinable public var block: UInt64 { low & ~(UInt64(3) << 27) | UInt64(high) << 27 }

    /// Writes the 20 ASCII digits to `out` (which must have room for 20 bytes).
    @inlinable public func writeDigits(to out: UnsafeMutablePointer<UInt8>) {
        // value = high·2^64 + low, and 2^64 = 1844674407·10^10 + 3709551616.
        let (lq, lr) = low.quotientAndRemainder(dividingBy: 10_000_000_000)
        let t = UInt64(high) * 3_709_551_616 + lr
        let upper = UInt64(high) * 1_844_674_407 + lq + t / 10_000_000_000
        var lower = t % 10_000_000_000
        var u = upper
        for i in stride(from: 19, through: 10, by: -1) { out[i] = UInt8(truncatingIfNeeded: lower % 10) &+ 48; lower /= 10 }
        for i in stride(from: 9, through: 0, by: -1) { out[i] = UInt8(truncatingIfNeeded: u % 10) &+ 48; u /= 10 }
    }

    /// The 20 digits.
    public var digits: String {
        String(unsafeUninitializedCapacity: 20) { buf in
            writeDigits(to: buf.baseAddress!)
            return 20
        }
    }

    /// The digits in five groups of four, as printed on receipts.
    public var grouped: String {
        let d = Array(digits)
        return stride(from: 0, to: 20, by: 4).map { String(d[$0..<$0 + 4]) }.joined(separator: " ")
    }

    /// The 20 digits, ungrouped (the same as ``digits``).
    public var description: String { digits }
}

/// Why a 20-digit token could not be turned into typed fields.
public enum TokenDecodingError: CodedError, Equatable {
    /// Not 20 digits, or 2^66 or more.
    case format(String)
    /// Class 3 is reserved.
    case reservedClass
    /// The CRC did not match after decryption: a mistyped token, or one for another meter or key.
    case crc
    /// The subclass is not defined (or not supported) for the class.
    case unknownSubclass(tokenClass: UInt8, subclass: UInt8)
    /// A field that must be fixed (zero padding) held other bits.
    case invalidField(String)

    /// The stable code scripts match on: `format`, `unknown-class`, `crc` or `unknown-subclass`.
    public var code: String {
        switch self {
        case .format: return "format"
        case .reservedClass: return "unknown-class"
        case .crc: return "crc"
        case .unknownSubclass: return "unknown-subclass"
        case .invalidField: return "format"
        }
    }

    /// The message for people, saying what is wrong with the typed token.
    public var description: String {
        switch self {
        case let .format(text): return "'\(text)' is not an STS token: 20 digits, at most 73786976294838206463"
        case .reservedClass: return "token class 3 is reserved: not a valid token"
        case .crc: return "CRC error: the token was mistyped, or is for another meter or key"
        case let .unknownSubclass(c, s): return "class \(c) subclass \(s) is not a token type this toolkit knows"
        case let .invalidField(what): return "format error: \(what)"
        }
    }
}
