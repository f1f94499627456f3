/// A price per kWh in 1/10 000 of the currency unit ("1.8532" per kWh), precise enough for
/// published tariffs; the cost of `t` tenths of a kWh is `t × price` in 10⁻⁵ units, exactly.
public struct EnergyPrice: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Price per kWh in 1/10 000 of the currency unit.
    public var perKWhTenThousandths: Int64

    /// A price from its value in 1/10 000 of the currency unit per kWh.
    @inlinable public init(perKWhTenThousandths: Int64) { self.perKWhTenThousandths = perKWhTenThousandths }

    /// Parses "1.85" or "1.8532" (at most four decimals).
    public init(_ text: String) throws(TariffError) {
        perKWhTenThousandths = try Money.parseFixed(text, decimals: 4, what: "price per kWh")
    }

    /// The price with four decimals (`1.8532`).
    public var description: String {
        let v = perKWhTenThousandths.magnitude
        let frac = String(v % 10_000)
        return "\(perKWhTenThousandths < 0 ? "-" : "")\(v / 10_000).\(String(repeating: "0", count: max(0, 4 - frac.count)))\(frac)"
    }

    /// Orders prices by value.
    public static func < (a: EnergyPrice, b: EnergyPrice) -> Bool { a.perKWhTenThousandths < b.perKWhTenThousandths }
}
