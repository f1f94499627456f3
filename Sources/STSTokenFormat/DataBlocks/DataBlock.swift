/// A 64-bit STS data block before encryption: `subclass(4) | payload(44) | CRC(16)`.
///
/// The token class is not in the block, but it is inside the CRC: the CRC covers
/// `class(2) | subclass(4) | payload(44)`, so a token whose class bits were altered fails.
public struct DataBlock: Hashable, Sendable, CustomStringConvertible {
    /// The block as an integer; hex renderings are big-endian.
    public let rawValue: UInt64

    /// Wraps a 64-bit block as it is (for example a decrypted one); the CRC is not checked.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Assembles a block and computes its CRC (CRC_C for currency credit).
    @inlinable public init(tokenClass: TokenClass, subclass: UInt8, payload: UInt64, currencyCRC: Bool = false) {
        let value50 = UInt64(tokenClass.rawValue) << 48 | UInt64(subclass & 0xF) << 44 | payload & Self.payloadMask
        rawValue = (value50 & 0xFFFF_FFFF_FFFF) << 16 | UInt64(CRC16.field(for: value50, currency: currencyCRC))
    }

    /// The 44 payload bits.
    @usableFromInline static let payloadMask: UInt64 = (1 << 44) - 1

    /// Bits 63..60.
    @inlinable public var subclass: UInt8 { UInt8(rawValue >> 60) }
    /// Bits 59..16, right-aligned.
    @inlinable public var payload: UInt64 { rawValue >> 16 & Self.payloadMask }
    /// Bits 15..0.
    @inlinable public var crc: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    /// Whether the CRC field matches the block under the given class (CRC_C when `currencyCRC`).
    @inlinable public func hasValidCRC(tokenClass: TokenClass, currencyCRC: Bool = false) -> Bool {
        let value50 = UInt64(tokenClass.rawValue) << 48 | rawValue >> 16
        return CRC16.field(for: value50, currency: currencyCRC) == crc
    }

    /// Sixteen upper-case hex digits.
    public var hex: String { Hex.encode(rawValue) }

    /// The block as sixteen upper-case hex digits (the same as ``hex``).
    public var description: String { hex }
}

