/// The token encryption algorithm code (EA) a meter and its decoder key use.
public enum EncryptionAlgorithm: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// EA07: the Standard Transfer Algorithm, 64-bit key.
    case sta = 7
    /// EA09: DES (DEA), 64-bit key. No public test vector exists; see Specs/tokens.md.
    case dea = 9
    /// EA11: MISTY1 (RFC 2994), 128-bit key.
    case misty1 = 11

    /// The algorithm for a numeric EA code (7, 9 or 11); throws `outOfRange` for any other code.
    public init(code: Int) throws(FieldError) {
        guard let ea = EncryptionAlgorithm(rawValue: code) else {
            throw .outOfRange(field: "encryption algorithm", value: "\(code)", range: "7 (STA), 9 (DEA) or 11 (MISTY1)")
        }
        self = ea
    }

    /// The decoder key length the algorithm needs, in bits.
    public var keyBits: Int { self == .misty1 ? 128 : 64 }

    /// The code as two digits ("07", "09", "11").
    public var description: String { rawValue < 10 ? "0\(rawValue)" : "\(rawValue)" }
}
