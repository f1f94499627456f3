import STSTokenFormat

/// Why a key could not be read, derived or used. Messages never contain key material.
public enum KeyError: CodedError, Equatable {
    /// The key text was not hexadecimal.
    case notHex(what: String)
    /// The key had the wrong length for its use.
    case wrongLength(what: String, expectedBits: [Int], gotBits: Int)
    /// The derivation algorithm has no verified public definition.
    case unsupportedDerivation(KeyDerivationAlgorithm)
    /// A derivation input has no verified encoding for this algorithm.
    case unsupportedInput(String)
    /// EA09 (DES) has no public test vector; it is only used when explicitly allowed.
    case unverifiedAlgorithm(EncryptionAlgorithm)
    /// The decoder key's length does not suit the encryption algorithm.
    case keyAlgorithmMismatch(keyBits: Int, algorithm: EncryptionAlgorithm)

    /// The stable code scripts match on (`bad-key`, `bad-key-length`, `unsupported-dkga`, …).
    public var code: String {
        switch self {
        case .notHex: return "bad-key"
        case .wrongLength: return "bad-key-length"
        case .unsupportedDerivation: return "unsupported-dkga"
        case .unsupportedInput: return "unsupported-dkga-input"
        case .unverifiedAlgorithm: return "unverified-ea"
        case .keyAlgorithmMismatch: return "key-algorithm-mismatch"
        }
    }

    /// The message for people; it never contains key material.
    public var description: String {
        switch self {
        case let .notHex(what):
            return "\(what) is not hexadecimal"
        case let .wrongLength(what, expected, got):
            return "\(what) must be \(expected.map { "\($0)" }.joined(separator: " or ")) bits; got \(got) bits"
        case let .unsupportedDerivation(dkga):
            return "DKGA\(dkga) is not supported: no verified public definition or test vector exists (use DKGA02 or DKGA04)"
        case let .unsupportedInput(what):
            return what
        case let .unverifiedAlgorithm(ea):
            return "EA\(ea) has no public test vector; enable it explicitly (--allow-unverified-ea09) if your meters use it"
        case let .keyAlgorithmMismatch(bits, ea):
            return "a \(bits)-bit decoder key cannot be used with EA\(ea), which needs \(ea.keyBits) bits"
        }
    }
}
