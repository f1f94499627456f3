/// The decoder key generation algorithm (DKGA) that turns a vending key and the meter's
/// identity into its decoder key.
public enum KeyDerivationAlgorithm: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// DKGA01: the original 1993 algorithm. No verified public definition: rejected.
    case dkga01 = 1
    /// DKGA02: DES-based, 64-bit vending key.
    case dkga02 = 2
    /// DKGA03: 3DES-based. No verified public definition or vector: rejected.
    case dkga03 = 3
    /// DKGA04: HMAC-SHA-256 based (IEC 62055-41:2018), 160-bit vending key.
    case dkga04 = 4

    /// The algorithm for a DKGA code 1–4; throws `outOfRange` for any other code.
    public init(code: Int) throws(FieldError) {
        guard let a = KeyDerivationAlgorithm(rawValue: code) else {
            throw .outOfRange(field: "key derivation algorithm", value: "\(code)", range: "1–4")
        }
        self = a
    }

    /// The code as two digits (`02`, `04`).
    public var description: String { "0\(rawValue)" }
}
