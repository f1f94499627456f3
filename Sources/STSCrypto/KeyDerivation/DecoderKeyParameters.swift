import STSTokenFormat

/// Everything that identifies one decoder key: the meter and the key's attributes.
///
/// The same values go into the derivation (DKGA) and, for a key change, into the key-change
/// tokens, so a meter's key and its tokens cannot disagree.
public struct DecoderKeyParameters: Hashable, Sendable {
    public var derivation: KeyDerivationAlgorithm
    public var pan: MeterPAN
    public var supplyGroup: SupplyGroupCode
    public var tariffIndex: TariffIndex
    public var revision: KeyRevisionNumber
    public var keyType: KeyType
    public var baseDate: BaseDate
    public var encryption: EncryptionAlgorithm

    public init(derivation: KeyDerivationAlgorithm, pan: MeterPAN, supplyGroup: SupplyGroupCode,
                tariffIndex: TariffIndex, revision: KeyRevisionNumber, keyType: KeyType,
                baseDate: BaseDate, encryption: EncryptionAlgorithm) {
        self.derivation = derivation
        self.pan = pan
        self.supplyGroup = supplyGroup
        self.tariffIndex = tariffIndex
        self.revision = revision
        self.keyType = keyType
        self.baseDate = baseDate
        self.encryption = encryption
    }
}

/// Derives decoder keys from a vending key, dispatching on the DKGA.
public enum DecoderKeyGenerator {
    /// The meter's decoder key. DKGA01 and DKGA03 are refused: no verified public definition.
    @inlinable public static func derive(_ p: DecoderKeyParameters, vendingKey: VendingKey) throws(KeyError) -> DecoderKey {
        switch p.derivation {
        case .dkga02: return try DKGA02.derive(p, vendingKey: vendingKey)
        case .dkga04: return try DKGA04.derive(p, vendingKey: vendingKey)
        case .dkga01, .dkga03: throw .unsupportedDerivation(p.derivation)
        }
    }
}
