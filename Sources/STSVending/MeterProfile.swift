import STSCrypto
import STSTokenFormat

/// A meter as the vending side knows it: its PAN and the attributes of the decoder key it holds
/// (SGC, TI, KRN, KT, base date, DKGA, EA and KEN: one ``KeyAttributes``).
///
/// The key attributes are read and written directly (`meter.supplyGroup = …`).
@dynamicMemberLookup
public struct MeterProfile: Hashable, Sendable {
    /// The meter's PAN.
    public var pan: MeterPAN
    /// The attributes of the meter's decoder key.
    public var attributes: KeyAttributes

    /// A profile from a PAN and key attributes.
    public init(pan: MeterPAN, attributes: KeyAttributes) {
        self.pan = pan
        self.attributes = attributes
    }

    /// A profile from the meter's PAN, the decoder key's attributes (SGC, TI, KRN, KT, base date,
    /// DKGA, EA) and the key's expiry number.
    public init(pan: MeterPAN, supplyGroup: SupplyGroupCode, tariffIndex: TariffIndex, revision: KeyRevisionNumber,
                keyType: KeyType, expiry: KeyExpiryNumber, baseDate: BaseDate,
                derivation: KeyDerivationAlgorithm, encryption: EncryptionAlgorithm) {
        self.init(pan: pan, attributes: KeyAttributes(derivation: derivation, encryption: encryption, baseDate: baseDate, supplyGroup: supplyGroup,
                                                      revision: revision, keyType: keyType, tariffIndex: tariffIndex, expiry: expiry))
    }

    /// The inputs of the decoder key derivation.
    public var keyParameters: DecoderKeyParameters { attributes.decoderKeyParameters(pan: pan) }

    /// Reads and writes the key attributes directly (`meter.encryption`, `meter.expiry`).
    public subscript<T>(dynamicMember path: WritableKeyPath<KeyAttributes, T>) -> T {
        get { attributes[keyPath: path] }
        set { attributes[keyPath: path] = newValue }
    }

    /// The meter's decoder key under `vendingKey`.
    @inlinable public func decoderKey(vendingKey: VendingKey) throws(KeyError) -> DecoderKey {
        try DecoderKeyGenerator.derive(keyParameters, vendingKey: vendingKey)
    }
}

extension KeyAttributes {
    /// The profile of meter `pan` holding a decoder key derived under these attributes.
    public func meter(_ pan: MeterPAN) -> MeterProfile { MeterProfile(pan: pan, attributes: self) }
}
