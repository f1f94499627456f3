/// The tariff index (TI): two decimal digits, part of the decoder key's derivation input and
/// loaded into the meter by key-change tokens.
public struct TariffIndex: Hashable, Sendable, CustomStringConvertible {
    /// 0 … 99.
    public let value: UInt8

    /// A TI from its value; throws `outOfRange` outside 0 … 99.
    public init(_ value: Int) throws(FieldError) {
        guard (0...99).contains(value) else {
            throw .outOfRange(field: "tariff index", value: "\(value)", range: "0–99")
        }
        self.value = UInt8(value)
    }

    /// Two digits with a leading zero, as the key derivation input writes it.
    public var description: String { value < 10 ? "0\(value)" : "\(value)" }
}
