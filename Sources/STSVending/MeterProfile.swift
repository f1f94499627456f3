import STSCrypto
import STSTokenFormat

/// A meter as the vending side knows it: its PAN and the attributes of the key it holds.
///
/// These are exactly the fields that derive the decoder key (DKGA input) plus the key's expiry.
public struct MeterProfile: Hashable, Sendable {
    public var pan: MeterPAN
    public var supplyGroup: SupplyGroupCode
    public var tariffIndex: TariffIndex
    public var revision: KeyRevisionNumber
    public var keyType: KeyType
    public var expiry: KeyExpiryNumber
    public var baseDate: BaseDate
    public var derivation: KeyDerivationAlgorithm
    public var encryption: EncryptionAlgorithm

    public init(pan: MeterPAN, supplyGroup: SupplyGroupCode, tariffIndex: TariffIndex, revision: KeyRevisionNumber,
                keyType: KeyType, expiry: KeyExpiryNumber, baseDate: BaseDate,
                derivation: KeyDerivationAlgorithm, encryption: EncryptionAlgorithm) {
        self.pan = pan
        self.supplyGroup = supplyGroup
        self.tariffIndex = tariffIndex
        self.revision = revision
        self.keyType = keyType
        self.expiry = expiry
        self.baseDate = baseDate
        self.derivation = derivation
        self.encryption = encryption
    }

    /// The inputs of the decoder key derivation.
    public var keyParameters: DecoderKeyParameters {
        DecoderKeyParameters(derivation: derivation, pan: pan, supplyGroup: supplyGroup, tariffIndex: tariffIndex,
                             revision: revision, keyType: keyType, baseDate: baseDate, encryption: encryption)
    }

    /// The meter's decoder key under `vendingKey`.
    public func decoderKey(vendingKey: VendingKey) throws(KeyError) -> DecoderKey {
        try DecoderKeyGenerator.derive(keyParameters, vendingKey: vendingKey)
    }
}
