import STSCrypto
import STSTokenFormat

/// A meter as the vending side knows it: the identity of the decoder key it holds (PAN, SGC,
/// TI, KRN, KT, base date, DKGA, EA) plus that key's expiry number.
///
/// The key attributes are read and written directly (`meter.pan`, `meter.supplyGroup = …`).
@dynamicMemberLookup
public struct MeterProfile: Hashable, Sendable {
    /// The inputs of the decoder key derivation.
    public var keyParameters: DecoderKeyParameters
    /// The key's expiry number.
    public var expiry: KeyExpiryNumber

    /// A profile from the meter's PAN, the decoder key's attributes (SGC, TI, KRN, KT, base date,
    /// DKGA, EA) and the key's expiry number.
    public init(pan: MeterPAN, supplyGroup: SupplyGroupCode, tariffIndex: TariffIndex, revision: KeyRevisionNumber,
                keyType: KeyType, expiry: KeyExpiryNumber, baseDate: BaseDate,
                derivation: KeyDerivationAlgorithm, encryption: EncryptionAlgorithm) {
        keyParameters = DecoderKeyParameters(derivation: derivation, pan: pan, supplyGroup: supplyGroup, tariffIndex: tariffIndex,
                                             revision: revision, keyType: keyType, baseDate: baseDate, encryption: encryption)
        self.expiry = expiry
    }

    /// Reads and writes the key attributes in ``keyParameters`` directly (`meter.pan`, `meter.encryption`).
    public subscript<T>(dynamicMember path: WritableKeyPath<DecoderKeyParameters, T>) -> T {
        get { keyParameters[keyPath: path] }
        set { keyParameters[keyPath: path] = newValue }
    }

    /// The meter's decoder key under `vendingKey`.
    @inlinable public func decoderKey(vendingKey: VendingKey) throws(KeyError) -> DecoderKey {
        try DecoderKeyGenerator.derive(keyParameters, vendingKey: vendingKey)
    }
}
