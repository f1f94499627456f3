import STSCrypto
import STSTokenFormat

/// A token read back into typed fields: what a vending operator or auditor sees when checking
/// a token, and what a meter's decoder starts from.
public struct DecodedToken: Hashable, Sendable {
    /// The 20-digit number that was decoded.
    public let number: TokenNumber
    /// The class sent in clear with the token.
    public let tokenClass: TokenClass
    /// The plain data block (after decryption).
    public let dataBlock: DataBlock
    /// The typed fields, read after the CRC was checked.
    public let content: TokenContent

    /// The 4-bit subclass from the plain data block.
    public var subclass: UInt8 { dataBlock.subclass }

    @inlinable init(number: TokenNumber, tokenClass: TokenClass, dataBlock: DataBlock, content: TokenContent) {
        self.number = number
        self.tokenClass = tokenClass
        self.dataBlock = dataBlock
        self.content = content
    }
}

/// Decodes 20-digit tokens with a meter's decoder key: class → decrypt → CRC → fields.
///
/// Errors are the standard's: format (not a 66-bit number), an unknown class or subclass, or
/// CRC (which is also what a token for another meter or key looks like).
public struct TokenDecoder: Sendable {
    @usableFromInline let cipher: TokenCipher

    /// A decoder for a known decoder key. Throws when the key length does not suit the algorithm,
    /// or for EA09 unless `allowUnverified` is set.
    public init(key: DecoderKey, algorithm: EncryptionAlgorithm, allowUnverified: Bool = false) throws(KeyError) {
        cipher = try TokenCipher(key: key, algorithm: algorithm, allowUnverified: allowUnverified)
    }

    /// A decoder for `meter`, deriving its key from the vending key.
    public init(meter: MeterProfile, vendingKey: VendingKey, allowUnverified: Bool = false) throws(KeyError) {
        try self.init(key: meter.decoderKey(vendingKey: vendingKey), algorithm: meter.encryption, allowUnverified: allowUnverified)
    }

    /// Decodes a token given as text (20 digits, spaces or hyphens between groups allowed).
    public func decode(_ text: String) throws(TokenDecodingError) -> DecodedToken {
        try decode(TokenNumber(text))
    }

    /// Decodes a token number.
    @inlinable public func decode(_ number: TokenNumber) throws(TokenDecodingError) -> DecodedToken {
        let tokenClass = number.tokenClass
        if tokenClass == .reserved { throw .reservedClass }
        let block = DataBlock(rawValue: tokenClass.isEncrypted ? cipher.decrypt(number.block) : number.block)
        let content = try TokenContent(block: block, tokenClass: tokenClass, keyBits: cipher.algorithm.keyBits)
        return DecodedToken(number: number, tokenClass: tokenClass, dataBlock: block, content: content)
    }

    /// Decodes a class 1 (meter test) token, which needs no key. Other classes are refused.
    public static func decodeMeterTest(_ number: TokenNumber) throws(TokenDecodingError) -> DecodedToken {
        guard number.tokenClass == .meterTest else { throw .invalidField("only class 1 tokens can be read without a key") }
        let block = DataBlock(rawValue: number.block)
        let content = try TokenContent(block: block, tokenClass: .meterTest, keyBits: 64)
        return DecodedToken(number: number, tokenClass: .meterTest, dataBlock: block, content: content)
    }
}
