import STSTokenFormat

/// Everything that identifies one decoder key: the meter and the key's attributes.
///
/// The same values go into the derivation (DKGA) and, for a key change, into the key-change
/// tokens, so a meter's key and its tokens cannot disagree.
public struct DecoderKeyParameters: Hashable, Sendable {
    /// The decoder key generation algorithm (DKGA02 or DKGA04).
    public var derivation: KeyDerivationAlgorithm
    /// The meter whose key this is.
    public var pan: MeterPAN
    /// The supply group code (SGC): selects the vending key and enters the derivation.
    public var supplyGroup: SupplyGroupCode
    /// The tariff index (TI) loaded in the meter with this key.
    public var tariffIndex: TariffIndex
    /// The key revision number (KRN) of the vending key.
    public var revision: KeyRevisionNumber
    /// The decoder key type (KT): usually DUTK, unique to the meter.
    public var keyType: KeyType
    /// The base date the meter's TIDs count from.
    public var baseDate: BaseDate
    /// The meter's encryption algorithm (EA); it decides the decoder key's length.
    public var encryption: EncryptionAlgorithm

    /// Collects the parameters as given; they are checked when a key is derived.
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
