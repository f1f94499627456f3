/// The signed amount of currency credit tokens (class 0, subclasses 4–7), in units of
/// 10⁻⁵ of the currency.
///
/// A 5-bit exponent is split over the amount field (e1, e0 in bits 15, 14 with a 14-bit
/// mantissa) and the nibble that holds RND in other tokens (sign, e4, e3, e2). The magnitude is
/// `m·10^e + Σ_{n<e} 2^14·10^n`. Rounding moves the signed value up: positive amounts round
/// the magnitude up, negative ones round it down.
public struct CurrencyAmount: Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit amount field.
    public let field: UInt16
    /// The sign-and-exponent nibble (sign in bit 3, e4 e3 e2 in bits 2–0).
    public let signAndExponent: UInt8

    /// Internal units per currency unit.
    public static let unitsPerMain: Int128 = 100_000
    /// The largest magnitude: 16 383·10^31 + the offset of exponent 31.
    public static let maximumMagnitude: UInt128 = 16_383 * pow10(31) + offset(31)

    /// Wraps fields read from a decoded token.
    public init(field: UInt16, signAndExponent: UInt8) {
        self.field = field
        self.signAndExponent = signAndExponent & 0xF
    }

    /// Encodes a signed amount in 10⁻⁵ units, rounding the signed value up to the next
    /// representable one. Throws when the magnitude is beyond the largest encodable value.
    public init(roundingUp units: Int128) throws(FieldError) {
        let negative = units < 0
        let magnitude = UInt128(units.magnitude)
        guard magnitude <= Self.maximumMagnitude else {
            throw .amountOutOfRange(value: "\(units) × 10⁻⁵", range: "magnitude at most \(Self.maximumMagnitude) × 10⁻⁵")
        }
        var e = 0
        var m: UInt128 = 0
        if !negative {
            // Smallest exponent whose range reaches the value; mantissa rounded up.
            while magnitude > Self.offset(e) + 16_383 * Self.pow10(e) { e += 1 }
            let above = magnitude > Self.offset(e) ? magnitude - Self.offset(e) : 0
            m = (above + Self.pow10(e) - 1) / Self.pow10(e)
        } else {
            // Largest exponent whose range starts at or below the magnitude; mantissa rounded down.
            while e < 31 && Self.offset(e + 1) <= magnitude { e += 1 }
            m = min(16_383, (magnitude - Self.offset(e)) / Self.pow10(e))
        }
        field = UInt16(e & 1) << 14 | UInt16(e >> 1 & 1) << 15 | UInt16(m)
        signAndExponent = (negative ? 8 : 0) | UInt8(e >> 2)
    }

    /// Whether the amount is negative (a debit).
    public var isNegative: Bool { signAndExponent & 8 != 0 }

    /// The 5-bit exponent.
    public var exponent: Int { Int(field >> 14 & 1) | Int(field >> 15 & 1) << 1 | Int(signAndExponent & 7) << 2 }

    /// The 14-bit mantissa.
    public var mantissa: UInt128 { UInt128(field & 0x3FFF) }

    /// The magnitude in 10⁻⁵ units.
    public var magnitude: UInt128 { mantissa * Self.pow10(exponent) + Self.offset(exponent) }

    /// The signed value in 10⁻⁵ units.
    public var units: Int128 { isNegative ? -Int128(magnitude) : Int128(magnitude) }

    /// The value in main currency units as an exact decimal string (`-1800.00624`).
    public var decimalString: String { DecimalQuantity.format(units, scale: 5) }

    /// The amount in main currency units (the same as ``decimalString``).
    public var description: String { decimalString }

    /// 10^e.
    public static func pow10(_ e: Int) -> UInt128 {
        var v: UInt128 = 1
        for _ in 0..<e { v *= 10 }
        return v
    }

    /// Σ_{n<e} 2^14·10^n.
    public static func offset(_ e: Int) -> UInt128 { 16_384 * ((pow10(e) - 1) / 9) }
}
