/// The key revision number (KRN): which revision of the supply group's vending key a decoder
/// key comes from. Four bits in key-change tokens, one hex digit in derivation inputs.
public struct KeyRevisionNumber: Hashable, Sendable, CustomStringConvertible {
    /// 1 … 15.
    public let value: UInt8

    /// A KRN from its value; throws `outOfRange` outside 1 … 15.
    public init(_ value: Int) throws(FieldError) {
        guard (1...15).contains(value) else {
            throw .outOfRange(field: "key revision number", value: "\(value)", range: "1–15")
        }
        self.value = UInt8(value)
    }

    /// Creates the value from the 4-bit token field, where 0 can appear in a decoded token.
    public init(tokenField: UInt8) { value = tokenField & 0xF }

    /// The KRN as a decimal number.
    public var description: String { "\(value)" }
}
