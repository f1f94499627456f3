/// Why a value could not become one of the STS value types (meter numbers, key attributes,
/// amounts, token identifiers, token numbers).
///
/// Every case names the field and the rule that was broken, so a vending operator can fix the
/// input without reading the standard.
public enum FieldError: CodedError, Equatable {
    /// The text was not made only of decimal digits, or had the wrong number of them.
    case badDigits(field: String, expected: String, got: String)
    /// A Luhn check digit did not match (`field` says which: meter PAN or DRN).
    case badCheckDigit(field: String)
    /// A 13-digit DRN needs the 4-digit IIN and an 11-digit DRN the 6-digit one.
    case drnLengthMismatch(iinDigits: Int, drnDigits: Int)
    /// A numeric field was outside the range the token format can carry.
    case outOfRange(field: String, value: String, range: String)
    /// An amount was zero, negative where that is not allowed, or past the largest encodable value.
    case amountOutOfRange(value: String, range: String)
    /// A decimal amount was not a plain decimal number.
    case badAmount(String)
    /// A timestamp was not ISO 8601 with a time zone.
    case badTimestamp(String)
    /// A time before the key's base date, or too late for the 24-bit token identifier.
    case tidOutOfRange(minutes: Int64, baseDate: Int)

    /// The stable, machine-readable code scripts match on (`bad-digits`, `out-of-range`, …).
    public var code: String {
        switch self {
        case .badDigits: return "bad-digits"
        case .badCheckDigit: return "bad-check-digit"
        case .drnLengthMismatch: return "drn-length-mismatch"
        case .outOfRange: return "out-of-range"
        case .amountOutOfRange: return "amount-out-of-range"
        case .badAmount: return "bad-amount"
        case .badTimestamp: return "bad-timestamp"
        case .tidOutOfRange: return "tid-out-of-range"
        }
    }

    /// The message for people: the field, the rule it broke and what was given.
    public var description: String {
        switch self {
        case let .badDigits(field, expected, got):
            return "\(field) must be \(expected); got \(got.isEmpty ? "nothing" : "'\(got)'")"
        case let .badCheckDigit(field):
            return "\(field) check digit is wrong (Luhn): the number was mistyped"
        case let .drnLengthMismatch(iin, drn):
            return "a \(drn)-digit DRN cannot be combined with a \(iin)-digit IIN (use IIN 600727 with 11-digit DRNs, IIN 0000 with 13-digit DRNs)"
        case let .outOfRange(field, value, range):
            return "\(field) \(value) is out of range (\(range))"
        case let .amountOutOfRange(value, range):
            return "amount \(value) cannot be encoded (\(range))"
        case let .badAmount(text):
            return "'\(text)' is not a decimal amount (digits, an optional '.', an optional leading '-')"
        case let .badTimestamp(text):
            return "'\(text)' is not an ISO 8601 time with a zone, e.g. 2024-01-01T10:00:00Z"
        case let .tidOutOfRange(minutes, baseDate):
            return minutes < 0
                ? "the time is before the key's base date \(baseDate)-01-01 00:00 UTC"
                : "the time is \(minutes) minutes after base date \(baseDate): past the 24-bit token identifier (16777215); the meter needs a key change to a later base date"
        }
    }
}
