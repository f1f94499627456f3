import STSTokenFormat

/// The attributes of an STS key: which algorithms it is used with and what it is for.
///
/// One bundle for every place that names a key: a vending key at the station (the attributes
/// every decoder key derived under it gets), a meter's profile on the vending side (the PAN plus
/// these), and the derivation inputs (``DecoderKeyParameters``, these without the KEN, plus the
/// PAN). The meter's own record of its key (`InstalledKey` in STSMeter) keeps the raw values key
/// change tokens load and no DKGA, which a meter never learns.
public struct KeyAttributes: Hashable, Sendable {
    /// The decoder key generation algorithm (DKGA02 or DKGA04).
    public var derivation: KeyDerivationAlgorithm
    /// The encryption algorithm (EA07, EA09 or EA11); it decides the decoder key's length.
    public var encryption: EncryptionAlgorithm
    /// The base date TIDs count from.
    public var baseDate: BaseDate
    /// The supply group code (SGC).
    public var supplyGroup: SupplyGroupCode
    /// The key revision number (KRN).
    public var revision: KeyRevisionNumber
    /// The key type (KT): usually DUTK, unique to the meter.
    public var keyType: KeyType
    /// The tariff index (TI).
    public var tariffIndex: TariffIndex
    /// The key expiry number (KEN); 255 never expires. Not a derivation input.
    public var expiry: KeyExpiryNumber

    /// Collects the attributes as given; they are checked when a key is derived.
    public init(derivation: KeyDerivationAlgorithm, encryption: EncryptionAlgorithm, baseDate: BaseDate, supplyGroup: SupplyGroupCode,
                revision: KeyRevisionNumber, keyType: KeyType, tariffIndex: TariffIndex, expiry: KeyExpiryNumber) {
        self.derivation = derivation
        self.encryption = encryption
        self.baseDate = baseDate
        self.supplyGroup = supplyGroup
        self.revision = revision
        self.keyType = keyType
        self.tariffIndex = tariffIndex
        self.expiry = expiry
    }

    /// The derivation inputs of meter `pan`'s decoder key under these attributes.
    public func decoderKeyParameters(pan: MeterPAN) -> DecoderKeyParameters {
        DecoderKeyParameters(derivation: derivation, pan: pan, supplyGroup: supplyGroup, tariffIndex: tariffIndex,
                             revision: revision, keyType: keyType, baseDate: baseDate, encryption: encryption)
    }
}
