/// An amount of the station's currency in minor units (cents): exact integer arithmetic, never
/// binary floating point, so every receipt and every audit sum adds up to the cent.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Minor units (1/100 of the currency unit).
    public var cents: Int64

    @inlinable public init(cents: Int64) { self.cents = cents }

    public static let zero = Money(cents: 0)

    /// Parses "100", "100.5" or "100.50": digits, at most two decimals, no sign, at most 10¹⁵.
    public init(_ text: String) throws(TariffError) {
        cents = try Self.parseFixed(text, decimals: 2, what: "money amount")
    }

    /// "100.50"; negative amounts keep their sign ("-3.20").
    public var description: String {
        let sign = cents < 0 ? "-" : ""
        let a = cents.magnitude
        let frac = a % 100
        return "\(sign)\(a / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    public static func < (a: Money, b: Money) -> Bool { a.cents < b.cents }
    public static func + (a: Money, b: Money) -> Money { Money(cents: a.cents + b.cents) }
    public static func - (a: Money, b: Money) -> Money { Money(cents: a.cents - b.cents) }
    public static func += (a: inout Money, b: Money) { a.cents += b.cents }
    public static func -= (a: inout Money, b: Money) { a.cents -= b.cents }

    /// Parses a non-negative decimal with at most `decimals` fraction digits into an integer
    /// scaled by 10^decimals.
    static func parseFixed(_ text: String, decimals: Int, what: String) throws(TariffError) -> Int64 {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let frac = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty, whole.count <= 15, whole.allSatisfy({ $0.isASCII && $0.isNumber }),
              frac.count <= decimals, frac.allSatisfy({ $0.isASCII && $0.isNumber }),
              parts.count == 1 || !frac.isEmpty
        else { throw .invalidAmount(what: what, text: text, decimals: decimals) }
        var value = Int64(whole)!
        for _ in 0..<decimals { value *= 10 }
        var scale: Int64 = 1
        for _ in 0..<(decimals - frac.count) { scale *= 10 }
        if !frac.isEmpty { value += Int64(frac)! * scale }
        return value
    }
}
