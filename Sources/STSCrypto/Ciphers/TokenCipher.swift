import STSTokenFormat

/// Encrypts and decrypts 64-bit data blocks with a decoder key under the meter's EA.
///
/// Checks once that the key suits the algorithm (and that EA09, which has no public vector,
/// was explicitly allowed); then each block costs only the cipher itself.
public struct TokenCipher: Sendable {
    /// The meter's encryption algorithm (EA07, EA09 or EA11) this cipher runs.
    public let algorithm: EncryptionAlgorithm
    @usableFromInline let key: DecoderKey

    /// Prepares a cipher for one decoder key. Throws `keyAlgorithmMismatch` when the key length does
    /// not suit the algorithm, and `unverifiedAlgorithm` for EA09 unless `allowUnverified` is set.
    public init(key: DecoderKey, algorithm: EncryptionAlgorithm, allowUnverified: Bool = false) throws(KeyError) {
        guard key.bitCount == algorithm.keyBits else {
            throw .keyAlgorithmMismatch(keyBits: key.bitCount, algorithm: algorithm)
        }
        if algorithm == .dea && !allowUnverified { throw .unverifiedAlgorithm(.dea) }
        self.algorithm = algorithm
        self.key = key
    }

    /// The encrypted block.
    @inlinable public func encrypt(_ block: UInt64) -> UInt64 {
        switch algorithm {
        case .sta: return StandardTransferAlgorithm.encrypt(block, key: key.first)
        case .misty1: return MISTY1.encrypt(block, keyHigh: key.first, keyLow: key.second)
        case .dea: return DataEncryptionStandard.encrypt(block, key: key.first)
        }
    }

    /// The plain block.
    @inlinable public func decrypt(_ block: UInt64) -> UInt64 {
        switch algorithm {
        case .sta: return StandardTransferAlgorithm.decrypt(block, key: key.first)
        case .misty1: return MISTY1.decrypt(block, keyHigh: key.first, keyLow: key.second)
        case .dea: return DataEncryptionStandard.decrypt(block, key: key.first)
        }
    }
}
