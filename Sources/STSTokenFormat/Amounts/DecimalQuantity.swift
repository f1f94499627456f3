/// Exact decimal text ↔ integer sub-units, without binary floating point.
///
/// Amounts arrive as text ("12.5" kWh, "-1.00001" currency) and must become an integer count of
/// tenths or of 10⁻⁵ units exactly; `Double` would turn 0.3 into 0.29999… and a ceiling into an
/// extra unit.
public enum DecimalQuantity {
    /// Parses `text` and scales it to integer sub-units (`scale` decimal places), rounding the
    /// signed value up (towards +∞) when it has more decimals than `scale`.
    public static func units(_ text: String, scale: Int) throws(FieldError) -> Int128 {
        var bytes = Substring(text).utf8[...]
        var negative = false
        if let f = bytes.first, f == 45 || f == 43 {
            negative = f == 45
            bytes = bytes.dropFirst()
        }
        var whole: Int128 = 0
        var fraction: Int128 = 0
        var fractionDigits = 0
        var roundUp = false
        var sawDigit = false
        var sawPoint = false
        for b in bytes {
            if b == 46 {
                guard !sawPoint else { throw .badAmount(text) }
                sawPoint = true
                continue
            }
            guard b >= 48, b <= 57 else { throw .badAmount(text) }
            sawDigit = true
            let d = Int128(b - 48)
            if !sawPoint {
                guard whole < Int128(10).power(30) else { throw .amountOutOfRange(value: text, range: "too many digits") }
                whole = whole * 10 + d
            } else if fractionDigits < scale {
                fraction = fraction * 10 + d
                fractionDigits += 1
            } else if d != 0 {
                roundUp = true
            }
        }
        guard sawDigit else { throw .badAmount(text) }
        while fractionDigits < scale { fraction *= 10; fractionDigits += 1 }
        let magnitude = whole * Int128(10).power(scale) + fraction
        // Dropped digits move a positive value up and a negative value towards zero.
        if negative { return -magnitude }
        return roundUp ? magnitude + 1 : magnitude
    }

    /// Formats integer sub-units as a decimal with `scale` places, trailing zeros removed.
    public static func format(_ units: Int128, scale: Int) -> String {
        let p = Int128(10).power(scale)
        let mag = units.magnitude
        let whole = mag / UInt128(p)
        var frac = String(mag % UInt128(p))
        frac = String(repeating: "0", count: scale - frac.count) + frac
        while frac.last == "0" { frac.removeLast() }
        return (units < 0 ? "-" : "") + "\(whole)" + (frac.isEmpty ? "" : ".\(frac)")
    }
}

extension Int128 {
    @usableFromInline func power(_ n: Int) -> Int128 {
        var v: Int128 = 1
        for _ in 0..<n { v *= self }
        return v
    }
}
