/// The 18-digit meter primary account number: IIN + IAIN (the meter's DRN) + a Luhn check digit.
///
/// Two forms exist: the legacy 6-digit IIN `600727` with an 11-digit DRN, and the 4-digit IIN
/// `0000` with a 13-digit DRN. The DRN (manufacturer code + serial + its own Luhn digit) is the
/// number printed on the meter. Both check digits are verified, so a mistyped meter number
/// never yields a key (and tokens) for another meter.
public struct MeterPAN: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The 18 digits as one integer (at most 10^18 − 1, so it fits 64 bits).
    public let value: UInt64
    /// 6 for the legacy IIN 600727 form, 4 for the IIN 0000 form.
    public let iinLength: Int

    /// The IIN used with 11-digit DRNs.
    public static let legacyIIN = "600727"
    /// The IIN used with 13-digit DRNs.
    public static let shortIIN = "0000"

    /// Parses an 18-digit meter PAN, checking both Luhn digits.
    public init(_ text: String) throws(FieldError) {
        var text = text
        let parsed = text.withUTF8 { Self.value(of: $0) }
        guard let parsed else { throw .badDigits(field: "meter PAN", expected: "18 digits", got: text) }
        try self.init(checked: parsed)
    }

    /// Parses an 18-digit meter PAN from ASCII bytes (batch requests: no string is made).
    public init(digits: UnsafeBufferPointer<UInt8>) throws(FieldError) {
        guard let parsed = Self.value(of: digits) else {
            throw .badDigits(field: "meter PAN", expected: "18 digits", got: String(decoding: digits.prefix(40), as: UTF8.self))
        }
        try self.init(checked: parsed)
    }

    /// Exactly 18 ASCII digits as a number.
    static func value(of digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard digits.count == 18 else { return nil }
        var value: UInt64 = 0
        for c in digits {
            guard c >= 48, c <= 57 else { return nil }
            value = value * 10 + UInt64(c - 48)
        }
        return value
    }

    private init(checked value: UInt64) throws(FieldError) {
        // A PAN whose first four digits are 0000 uses the 4-digit IIN and a 13-digit DRN.
        let iinLength = value < 100_000_000_000_000 ? 4 : 6
        guard Self.luhnDigit(value / 10, digits: 17) == value % 10 else {
            throw .badCheckDigit(field: "meter PAN")
        }
        // The DRN is digits iinLength..<17; its last digit (PAN digit 16) is its check digit.
        let drnCount = 17 - iinLength
        var scale: UInt64 = 1
        for _ in 0..<drnCount { scale *= 10 }
        let drn = (value / 10) % scale
        guard Self.luhnDigit(drn / 10, digits: drnCount - 1) == drn % 10 else {
            throw .badCheckDigit(field: "DRN inside the meter PAN")
        }
        self.value = value
        self.iinLength = iinLength
    }

    /// The 11-digit meter number (DRN) whose first 10 digits are `serial`: its Luhn digit appended.
    public static func meterNumber(serial: UInt64) -> String? {
        guard serial < 10_000_000_000 else { return nil }
        let digits = String(serial)
        return String(repeating: "0", count: 10 - digits.count) + digits + String(luhnDigit(serial, digits: 10))
    }

    /// The Luhn check digit of the low `digits` decimal digits of `payload`.
    static func luhnDigit(_ payload: UInt64, digits: Int) -> UInt64 {
        var sum: UInt64 = 0
        var v = payload
        for i in 0..<digits {
            var d = v % 10
            v /= 10
            if i & 1 == 0 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return (10 - sum % 10) % 10
    }

    /// Builds the PAN from an IIN (`600727` or `0000`) and the DRN printed on the meter,
    /// checking the DRN's Luhn digit and appending the PAN check digit.
    public init(iin: String, drn: String) throws(FieldError) {
        let iinDigits = try Self.digits(of: iin, field: "IIN", count: nil)
        guard iinDigits.count == 6 || iinDigits.count == 4 else {
            throw .badDigits(field: "IIN", expected: "4 or 6 digits", got: iin)
        }
        let drnDigits = try Self.digits(of: drn, field: "DRN", count: nil)
        guard drnDigits.count == 11 || drnDigits.count == 13 else {
            throw .badDigits(field: "DRN", expected: "11 or 13 digits", got: drn)
        }
        guard iinDigits.count + drnDigits.count == 17 else {
            throw .drnLengthMismatch(iinDigits: iinDigits.count, drnDigits: drnDigits.count)
        }
        if iinDigits.count == 4 && iinDigits != [0, 0, 0, 0] {
            throw .badDigits(field: "IIN", expected: "0000 with a 13-digit DRN", got: iin)
        }
        guard Luhn.checkDigit(for: drnDigits.dropLast()) == drnDigits.last! else {
            throw .badCheckDigit(field: "DRN")
        }
        let body = iinDigits + drnDigits
        try self.init(String(decoding: (body + [Luhn.checkDigit(for: body)]).map { $0 + 48 }, as: UTF8.self))
    }

    /// Accepts what an operator types: the full 18-digit PAN, or just the 11- or 13-digit DRN
    /// printed on the meter (which then gets the standard IIN for its length).
    public init(meterNumber text: String) throws(FieldError) {
        switch text.utf8.count {
        case 11: try self.init(iin: Self.legacyIIN, drn: text)
        case 13: try self.init(iin: Self.shortIIN, drn: text)
        case 18: try self.init(text)
        default:
            throw .badDigits(field: "meter number", expected: "an 18-digit PAN or an 11/13-digit DRN", got: text)
        }
    }

    /// The 18 digits as text.
    public var description: String {
        var out = [UInt8](repeating: 48, count: 18)
        var v = value
        for i in stride(from: 17, through: 0, by: -1) { out[i] = UInt8(v % 10) + 48; v /= 10 }
        return String(decoding: out, as: UTF8.self)
    }

    /// The issuer identification number (`600727` or `0000`).
    public var iin: String { String(description.prefix(iinLength)) }

    /// The decoder reference number: the meter number printed on the meter (11 or 13 digits).
    public var drn: String { String(description.dropFirst(iinLength).prefix(17 - iinLength)) }

    /// The manufacturer code at the head of the DRN: 2 digits for 11-digit DRNs, 4 for 13-digit ones.
    /// Class 1 (meter test) tokens are checked against it.
    public var manufacturerCode: UInt16 {
        let drn = Array(self.drn.utf8)
        let n = drn.count == 11 ? 2 : 4
        return drn.prefix(n).reduce(0) { $0 * 10 + UInt16($1 - 48) }
    }

    /// Digits 1 to 16 of the PAN (the IIN's first digit and the check digit dropped): the
    /// 16-digit PAN block that DKGA02 reads as 16 BCD nibbles.
    public var panBlockDigits: UInt64 { (value / 10) % 10_000_000_000_000_000 }

    /// Orders PANs by their numeric value, so meter lists sort by number.
    public static func < (a: MeterPAN, b: MeterPAN) -> Bool { a.value < b.value }

    private static func digits(of text: String, field: String, count: Int?) throws(FieldError) -> [UInt8] {
        let bytes = Array(text.utf8)
        let expected = count.map { "\($0) digits" } ?? "digits"
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw .badDigits(field: field, expected: expected, got: text)
        }
        if let count, bytes.count != count { throw .badDigits(field: field, expected: expected, got: text) }
        return bytes.map { $0 - 48 }
    }
}
