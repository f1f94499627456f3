/// The key expiry number (KEN): the highest value of a token identifier's top 8 bits for which
/// the key may still issue (and a meter still accept) TID-bearing tokens. 255 never expires.
///
/// The exact comparison is not public; we treat a key as expired for a TID when `TID >> 16 > KEN`
/// (see Specs/tokens.md). Key-change tokens carry the new KEN split into two nibbles.
public struct KeyExpiryNumber: Hashable, Sendable, CustomStringConvertible {
    /// The KEN, 0 … 255 (255: the key never expires).
    public let value: UInt8

    /// A KEN from its value; throws `outOfRange` outside 0 … 255.
    public init(_ value: Int) throws(FieldError) {
        guard (0...255).contains(value) else {
            throw .outOfRange(field: "key expiry number", value: "\(value)", range: "0–255")
        }
        self.value = UInt8(value)
    }

    /// Joins the KENHO and KENLO nibbles carried by the first and second key-change tokens.
    public init(high: UInt8, low: UInt8) { value = (high & 0xF) << 4 | (low & 0xF) }

    /// Whether the key may be used for a token with this TID.
    public func permits(_ tid: TokenIdentifier) -> Bool { tid.value >> 16 <= UInt32(value) }

    /// KENHO: the high nibble, sent in the first key-change token.
    public var highNibble: UInt8 { value >> 4 }
    /// KENLO: the low nibble, sent in the second key-change token.
    public var lowNibble: UInt8 { value & 0xF }

    /// The KEN as a decimal number.
    public var description: String { "\(value)" }
}
