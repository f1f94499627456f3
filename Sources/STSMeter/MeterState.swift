import STSCrypto
import STSTokenFormat

/// The key a meter holds and its attributes, as installed at manufacture or by a key change.
public struct InstalledKey: Equatable, Sendable {
    /// The decoder key tokens are decrypted with (a secret; never printed).
    public var decoderKey: DecoderKey
    /// The key revision number (KRN) of the installed key.
    public var revision: UInt8
    /// The key type (KT); credit is refused under a default key (DDTK).
    public var keyType: KeyType
    /// The key expiry number (KEN): tokens whose TID is past it get `key-expired`.
    public var expiry: KeyExpiryNumber
    /// The supply group code (SGC) the key belongs to.
    public var supplyGroup: SupplyGroupCode
    /// The tariff index (TI) loaded with the key.
    public var tariffIndex: UInt8
    /// The base date the meter counts TIDs from; a rollover key change moves it on.
    public var baseDate: BaseDate
    /// The encryption algorithm (EA07, EA09 or EA11) the key is used with.
    public var encryption: EncryptionAlgorithm

    /// An installed key from its bits and attributes.
    public init(decoderKey: DecoderKey, revision: UInt8, keyType: KeyType, expiry: KeyExpiryNumber,
                supplyGroup: SupplyGroupCode, tariffIndex: UInt8, baseDate: BaseDate, encryption: EncryptionAlgorithm) {
        self.decoderKey = decoderKey
        self.revision = revision
        self.keyType = keyType
        self.expiry = expiry
        self.supplyGroup = supplyGroup
        self.tariffIndex = tariffIndex
        self.baseDate = baseDate
        self.encryption = encryption
    }
}

/// The meter's registers: credit per utility (units and money), limits and flags.
public struct MeterRegisters: Equatable, Sendable {
    /// Credit by `CreditKind` raw value: tenths of the main unit for 0–3, 10⁻⁵ currency for 4–7.
    public var credit: [Int128] = Array(repeating: 0, count: 8)
    /// Maximum power limit in watts; nil: none set.
    public var maximumPowerLimit: UInt64?
    /// Maximum phase power unbalance limit in watts; nil: none set.
    public var phaseUnbalanceLimit: UInt64?
    /// The raw tariff rate value of the last set-tariff-rate token.
    public var tariffRate: UInt16?
    /// The raw water meter factor of the last set-water-meter-factor token.
    public var waterMeterFactor: UInt16?
    /// Set when the meter detects tampering; blocks credit until a clear-tamper token.
    public var tamper = false

    /// Empty registers: no credit, no limits, no tamper.
    public init() {}

    /// The credit register of one kind (tenths of the unit, or 10⁻⁵ currency for currency kinds).
    public subscript(kind: CreditKind) -> Int128 {
        get { credit[Int(kind.rawValue)] }
        set { credit[Int(kind.rawValue)] = newValue }
    }
}

/// Limits and timings a meter model chooses (the standard leaves them open).
public struct MeterPolicy: Equatable, Sendable {
    /// Accepted TIDs remembered.
    public var tidMemoryDepth = 50
    /// Seconds within which all tokens of a key-change set must be entered.
    public var keyChangeWindowSeconds: Int64 = 600
    /// The keypad lockout after wrong entries.
    public var lockout = LockoutPolicy()
    /// The largest unit credit a register holds, in tenths (9 999 999.9 kWh).
    public var maximumUnitCredit: Int128 = 99_999_999
    /// The largest money credit a register holds, in 10⁻⁵ units (9 999 999 999.99999).
    public var maximumCurrencyCredit: Int128 = 999_999_999_999_999

    /// The largest maximum a state file may set: register sums stay far inside 128 bits.
    public static let largestCreditMaximum: Int128 = 1_000_000_000_000_000_000_000_000_000_000

    /// The default policy: 50 TIDs, a 600 s key-change window, the default lockout and the default
    /// register maxima.
    public init() {}
}

/// The times a meter accepts, from its clock or its state file: 1970 to the end of year 9999.
/// Bounding them once means no sum of a time and a duration can overflow.
public enum MeterClock {
    /// The seconds since 1970 a meter accepts: 1970-01-01 to 9999-12-31T23:59:59Z.
    public static let range: ClosedRange<Int64> = 0...253_402_300_799
    /// The most consumption a state file may record (tenths of a kWh).
    public static let maximumConsumedTenths: UInt64 = 1_000_000_000_000_000
}

/// A key-change set being assembled: the plain blocks of the tokens entered so far.
public struct PendingKeyChange: Equatable, Sendable {
    /// When the first token of the set was entered (seconds since 1970).
    public var startedAt: Int64
    /// Decrypted blocks by subclass (3, 4, 8, 9); they contain new key bits.
    public var blocks: [UInt8: UInt64]

    /// A set begun at `startedAt`, with the blocks entered so far.
    public init(startedAt: Int64, blocks: [UInt8: UInt64] = [:]) {
        self.startedAt = startedAt
        self.blocks = blocks
    }
}

/// Everything a meter remembers: identity, key, TID memory, registers, pending key change and
/// lockout counters. Plain values, so a state can be saved, restored and compared.
public struct MeterState: Equatable, Sendable {
    /// The meter's PAN: its identity, and where class 1 tokens' manufacturer code comes from.
    public var pan: MeterPAN
    /// The decoder key the meter holds and its attributes.
    public var key: InstalledKey
    /// The TIDs accepted, which make each token work once (USED, OLD).
    public var tidMemory: TIDMemory
    /// Credit, limits and the tamper flag.
    public var registers = MeterRegisters()
    /// The key-change set being entered, if any.
    public var pendingKeyChange: PendingKeyChange?
    /// Wrong-entry counters and the current lockout.
    public var lockout = LockoutState()
    /// The meter model's limits and timings.
    public var policy: MeterPolicy

    /// A meter with empty registers; the TID memory is empty with the policy's depth unless given.
    public init(pan: MeterPAN, key: InstalledKey, policy: MeterPolicy = MeterPolicy(), tidMemory: TIDMemory? = nil) {
        self.pan = pan
        self.key = key
        self.policy = policy
        self.tidMemory = tidMemory ?? TIDMemory(depth: policy.tidMemoryDepth)
    }

    /// The manufacturer code class 1 tokens must carry (from the DRN).
    public var manufacturerCode: UInt16 { pan.manufacturerCode }
}

extension MeterState {
    /// A meter fresh from manufacture, with the decoder key derived from a vending key.
    public init(keyParameters p: DecoderKeyParameters, expiry: KeyExpiryNumber, vendingKey: VendingKey,
                policy: MeterPolicy = MeterPolicy()) throws(KeyError) {
        let key = try DecoderKeyGenerator.derive(p, vendingKey: vendingKey)
        self.init(keyParameters: p, expiry: expiry, decoderKey: key, policy: policy)
    }

    /// A meter fresh from manufacture, with a known decoder key.
    public init(keyParameters p: DecoderKeyParameters, expiry: KeyExpiryNumber, decoderKey: DecoderKey,
                policy: MeterPolicy = MeterPolicy()) {
        self.init(pan: p.pan,
                  key: InstalledKey(decoderKey: decoderKey, revision: p.revision.value, keyType: p.keyType, expiry: expiry,
                                    supplyGroup: p.supplyGroup, tariffIndex: p.tariffIndex.value, baseDate: p.baseDate,
                                    encryption: p.encryption),
                  policy: policy)
    }
}
