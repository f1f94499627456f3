/// The 16-bit transfer amount of credit tokens (and of the two power-limit tokens):
/// a 2-bit exponent and a 14-bit mantissa covering 0 … 18 201 624 units.
///
/// `units = m·10^e + Σ_{i=1…e} 2^14·10^(i−1)`: each exponent continues where the previous
/// range stopped, so the scale is dense up to 16 383 and then coarser by 10, 100, 1 000.
/// A value between two representable ones is rounded **up** (the customer never gets less than
/// paid for); ``units`` tells what was actually encoded so a receipt can show it.
public struct TransferAmount: Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit field as it sits in the data block.
    public let field: UInt16

    /// The largest encodable amount: 1 820 162.4 kWh in 0.1 kWh units.
    public static let maximumUnits: UInt64 = 18_201_624

    /// Offset of each exponent's range: 0, 16 384, 180 224, 1 818 624.
    @usableFromInline static let offsets: (UInt64, UInt64, UInt64, UInt64) = (0, 16_384, 180_224, 1_818_624)

    /// Wraps a field read from a decoded token.
    @inlinable public init(field: UInt16) { self.field = field }

    /// Encodes `units`, rounding up to the next representable value when it is not exact.
    /// Throws for values above ``maximumUnits``.
    @inlinable public init(roundingUp units: UInt64) throws(FieldError) {
        guard units <= Self.maximumUnits else {
            throw .amountOutOfRange(value: "\(units) units", range: "at most \(Self.maximumUnits) units")
        }
        self.field = Self.encode(units)
    }

    /// Encodes the largest representable amount not above `units` (at most ``maximumUnits``):
    /// what a vending station uses so a token never carries more energy than was paid for.
    @inlinable public init(roundingDown units: UInt64) {
        let u = min(units, Self.maximumUnits)
        if u <= 16_383 { field = UInt16(u) }
        else if u < 180_224 { field = 0x4000 | UInt16((u - 16_384) / 10) }
        else if u < 1_818_624 { field = 0x8000 | UInt16((u - 180_224) / 100) }
        else { field = 0xC000 | UInt16((u - 1_818_624) / 1000) }
    }

    /// The exponent and mantissa for `units` ≤ ``maximumUnits``; the mantissa is rounded up, and a
    /// value past one exponent's last step moves to the next exponent.
    @inlinable static func encode(_ units: UInt64) -> UInt16 {
        if units <= 16_383 { return UInt16(units) }
        if units <= 180_214 { return 0x4000 | UInt16((units - 16_384 + 9) / 10) }
        if units <= 1_818_524 {
            return units < 180_224 ? 0x8000 : 0x8000 | UInt16((units - 180_224 + 99) / 100)
        }
        return units < 1_818_624 ? 0xC000 : 0xC000 | UInt16((units - 1_818_624 + 999) / 1000)
    }

    /// The exponent (0–3).
    @inlinable public var exponent: Int { Int(field >> 14) }
    /// The mantissa (0–16 383).
    @inlinable public var mantissa: UInt64 { UInt64(field & 0x3FFF) }

    /// The amount this field stands for, in transfer units (0.1 kWh, 0.1 m³, 0.1 min; watts for power limits).
    @inlinable public var units: UInt64 {
        switch field >> 14 {
        case 0: return mantissa
        case 1: return mantissa * 10 + 16_384
        case 2: return mantissa * 100 + 180_224
        default: return mantissa * 1000 + 1_818_624
        }
    }

    /// The encoded units with their exponent and mantissa, for diagnostics.
    public var description: String { "\(units) units (e=\(exponent), m=\(mantissa))" }
}
