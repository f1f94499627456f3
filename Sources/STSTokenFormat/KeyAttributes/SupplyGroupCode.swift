/// The six-digit supply group code: which group of meters (and which vending key) a meter belongs to.
///
/// Carried as 24-bit binary inside key-change tokens, as BCD inside the DKGA02 control block and
/// as ASCII inside the DKGA04 message, so the decimal value is kept and each form derived from it.
public struct SupplyGroupCode: Hashable, Sendable, CustomStringConvertible {
    /// The code as a number, 0 … 999 999.
    public let value: UInt32

    /// Accepts a code of exactly six decimal digits (leading zeros count: `000123`).
    public init(_ text: String) throws(FieldError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 6, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw .badDigits(field: "supply group code", expected: "6 digits", got: text)
        }
        value = bytes.reduce(0) { $0 * 10 + UInt32($1 - 48) }
    }

    /// Accepts the numeric value (0 … 999 999).
    public init(value: UInt32) throws(FieldError) {
        guard value <= 999_999 else {
            throw .outOfRange(field: "supply group code", value: "\(value)", range: "000000–999999")
        }
        self.value = value
    }

    /// Six digits with leading zeros.
    public var description: String {
        let s = String(value)
        return String(repeating: "0", count: 6 - s.count) + s
    }
}
