/// The CRC-16 that protects every STS data block, and its currency variant CRC_C.
///
/// Generator x^16 + x^15 + x^2 + 1 in reflected form (polynomial 0xA001), register starting at
/// 0xFFFF, no final XOR (the parameters known as CRC-16/MODBUS). The input is the 50-bit value
/// `class(2) | subclass(4) | payload(44)` as 7 bytes, most significant first; CRC_C appends
/// one byte 0x01. The register's two bytes are swapped into the 16-bit CRC field.
public enum CRC16 {
    /// One table entry per byte value, for a byte-at-a-time CRC.
    @usableFromInline static let table: [UInt16] = (0..<256).map { byte in
        var reg = UInt16(byte)
        for _ in 0..<8 { reg = reg & 1 != 0 ? (reg >> 1) ^ 0xA001 : reg >> 1 }
        return reg
    }

    /// The CRC-16/MODBUS register over `bytes` (no byte swap).
    public static func modbus<S: Sequence>(_ bytes: S) -> UInt16 where S.Element == UInt8 {
        var reg: UInt16 = 0xFFFF
        for b in bytes { reg = (reg >> 8) ^ table[Int(UInt8(truncatingIfNeeded: reg) ^ b)] }
        return reg
    }

    /// The CRC field for a 50-bit class/subclass/payload value (`currency` selects CRC_C).
    @inlinable public static func field(for value50: UInt64, currency: Bool = false) -> UInt16 {
        table.withUnsafeBufferPointer { t in
            var reg: UInt16 = 0xFFFF
            var shift = 48
            while shift >= 0 {
                let b = UInt8(truncatingIfNeeded: value50 >> UInt64(shift))
                reg = (reg >> 8) ^ t[Int(UInt8(truncatingIfNeeded: reg) ^ b)]
                shift -= 8
            }
            if currency { reg = (reg >> 8) ^ t[Int(UInt8(truncatingIfNeeded: reg) ^ 1)] }
            return reg.byteSwapped
        }
    }
}
