/// An amount of the station's currency in minor units (cents): exact integer arithmetic, never
/// binary floating point, so every receipt and every audit sum adds up to the cent.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Minor units (1/100 of the currency unit).
    public var cents: Int64

    /// An amount in cents.
    @inlinable public init(cents: Int64) { self.cents = cents }

    /// Nothing: 0.00.
    public static let zero = Money(cents: 0)
    /// The largest amount the station reads or writes: 15 digits and 2 decimals.
    public static let maximumCents: Int64 = 99_999_999_999_999_999

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

    /// Orders amounts by value.
    public static func < (a: Money, b: Money) -> Bool { a.cents < b.cents }
    /// The sum of two amounts.
    public static func + (a: Money, b: Money) -> Money { Money(cents: a.cents + b.cents) }
    /// The difference of two amounts (negative when `b` is larger).
    public static func - (a: Money, b: Money) -> Money { Money(cents: a.cents - b.cents) }
    /// Adds `b` to `a`.
    public static func += (a: inout Money, b: Money) { a.cents += b.cents }
    /// Subtracts `b` from `a`.
    public static func -= (a: inout Money, b: Money) { a.cents -= b.cents }

    /// Parses a non-negative decimal with at most `decimals` fraction digits into an integer
    /// scaled by 10^decimals.
    static func parseFixed(_ text: String, decimals: Int, what: String) throws(TariffError) -> Int64 {
        var text = text
        let value = text.withUTF8 { FixedDecimal.parse($0, decimals: decimals, allowingSign: false) }
        guard let value else { throw .invalidAmount(what: what, text: text, decimals: decimals) }
        return value
    }

    /// The cents of a money string as the audit log writes it (`-`? up to 15 digits, optionally
    /// `.` and 1–2 digits), read from bytes; nil for anything else.
    public static func cents(_ text: UnsafeBufferPointer<UInt8>, allowingSign: Bool) -> Int64? {
        FixedDecimal.parse(text, decimals: 2, allowingSign: allowingSign)
    }
}

extension EnergyPrice {
    /// A price string (up to 15 digits, optionally `.` and 1–4 digits) in 1/10 000 per kWh,
    /// read from bytes; nil for anything else, including values beyond 64 bits.
    public static func tenThousandths(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        FixedDecimal.parse(text, decimals: 4, allowingSign: false)
    }
}

/// Energy as people type it: kWh with at most one decimal, in tenths of a kWh (the unit of an
/// STS credit token).
public enum EnergyAmount {
    /// Parses kWh with at most one decimal (`12.5`) into tenths of a kWh; throws `invalidAmount`
    /// for anything else.
    public static func tenths(_ text: String) throws(TariffError) -> Int64 {
        try Money.parseFixed(text, decimals: 1, what: "energy in kWh")
    }

    /// Tenths of a kWh as kWh with one decimal, the way receipts, results and reports show
    /// energy: `12.3` for 123, `0.0` for 0; a negative amount keeps its sign.
    public static func text(tenths: Int64) -> String {
        let a = tenths.magnitude
        return "\(tenths < 0 ? "-" : "")\(a / 10).\(a % 10)"
    }
}

/// Decimal text with a fixed number of fraction digits, as an integer scaled by 10^decimals:
/// `-`? 1–15 digits [`.` 1…decimals digits]. Checked arithmetic: text from files and the
/// command line never traps, it is refused.
enum FixedDecimal {
    static let maximumWholeDigits = 15

    static func parse(_ s: UnsafeBufferPointer<UInt8>, decimals: Int, allowingSign: Bool) -> Int64? {
        var i = 0
        let negative = allowingSign && !s.isEmpty && s[0] == 45
        if negative { i = 1 }
        var value: Int64 = 0
        var whole = 0
        while i < s.count, s[i] &- 48 < 10 {
            value = value * 10 + Int64(s[i] - 48)  // at most 15 digits: below 10^15
            whole += 1
            i += 1
            guard whole <= maximumWholeDigits else { return nil }
        }
        guard whole > 0 else { return nil }
        var fraction = 0
        if i < s.count {
            guard s[i] == 46 else { return nil }
            i += 1
            while i < s.count, s[i] &- 48 < 10, fraction < decimals {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (v, o2) = m.addingReportingOverflow(Int64(s[i] - 48))
                guard !o1, !o2 else { return nil }
                value = v
                fraction += 1
                i += 1
            }
            guard fraction > 0, i == s.count else { return nil }
        }
        for _ in fraction..<decimals {
            let (m, o) = value.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            value = m
        }
        return negative ? -value : value
    }
}
