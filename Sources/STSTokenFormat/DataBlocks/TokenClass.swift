/// The 2-bit token class, sent in clear next to the encrypted block.
public enum TokenClass: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Class 0: credit for one of the meter's registers (encrypted).
    case transferCredit = 0
    /// Class 1: meter test or display, for any meter of a manufacturer (not encrypted).
    case meterTest = 1
    /// Class 2: management for one meter: limits, clearing, key changes (encrypted).
    case management = 2
    /// Class 3: reserved; no token of this class is valid.
    case reserved = 3

    /// Whether tokens of this class are encrypted with the meter's decoder key.
    public var isEncrypted: Bool { self != .meterTest }

    /// The class name used in output and JSON: `credit`, `meter-test`, `management` or `reserved`.
    public var description: String {
        switch self {
        case .transferCredit: return "credit"
        case .meterTest: return "meter-test"
        case .management: return "management"
        case .reserved: return "reserved"
        }
    }
}

/// Class 0 subclasses: which register the credit is for, in units or in money.
public enum CreditKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Subclasses 0–3: credit in transfer units for the electricity, water, gas or time register.
    case electricity = 0, water, gas, time
    /// Subclasses 4–7: credit in money (currency) for the same four registers.
    case electricityCurrency, waterCurrency, gasCurrency, timeCurrency

    /// Currency subclasses carry a signed money amount with CRC_C instead of units and RND.
    @inlinable public var isCurrency: Bool { rawValue >= 4 }

    /// The unit of one transfer unit, for people.
    public var unitName: String {
        switch self {
        case .electricity: return "0.1 kWh"
        case .water: return "0.1 kl"
        case .gas: return "0.1 m³"
        case .time: return "0.1 min"
        default: return "0.00001 currency"
        }
    }

    /// The name used on the command line and in JSON (`electricity`, `gas-currency`, …).
    public var description: String {
        switch self {
        case .electricity: return "electricity"
        case .water: return "water"
        case .gas: return "gas"
        case .time: return "time"
        case .electricityCurrency: return "electricity-currency"
        case .waterCurrency: return "water-currency"
        case .gasCurrency: return "gas-currency"
        case .timeCurrency: return "time-currency"
        }
    }

    /// Looks a kind up by its command-line and JSON name (its ``description``); nil for an unknown name.
    public init?(name: String) {
        guard let k = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = k
    }
}

/// Class 2 subclasses.
public enum ManagementSubclass: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Subclass 0: set the maximum power limit.
    case setMaximumPowerLimit = 0
    /// Subclass 1: clear one or all credit registers.
    case clearCredit = 1
    /// Subclass 2: set the tariff rate.
    case setTariffRate = 2
    /// Subclass 3: first key-change token (the new key's high-order 32 bits, KENHO, KRN, KT, rollover, 3-token flag).
    case setFirstSectionDecoderKey = 3
    /// Subclass 4: second key-change token (the new key's low-order 32 bits, KENLO, TI).
    case setSecondSectionDecoderKey = 4
    /// Subclass 5: clear the tamper condition.
    case clearTamperCondition = 5
    /// Subclass 6: set the maximum phase power unbalance limit.
    case setMaximumPhasePowerUnbalanceLimit = 6
    /// Subclass 7: set the water meter factor.
    case setWaterMeterFactor = 7
    /// Subclass 8: third key-change token (the supply group code of a 3-token set, or SGC low bits and
    /// key bytes of a 4-token set).
    case setThirdSectionDecoderKey = 8
    /// Subclass 9: fourth key-change token of a 128-bit key set (SGC high bits and key bytes).
    case setFourthSectionDecoderKey = 9

    /// The name used in output (`set-max-power-limit`, `key-change-1`, …).
    public var description: String {
        switch self {
        case .setMaximumPowerLimit: return "set-max-power-limit"
        case .clearCredit: return "clear-credit"
        case .setTariffRate: return "set-tariff-rate"
        case .setFirstSectionDecoderKey: return "key-change-1"
        case .setSecondSectionDecoderKey: return "key-change-2"
        case .clearTamperCondition: return "clear-tamper"
        case .setMaximumPhasePowerUnbalanceLimit: return "set-max-phase-unbalance"
        case .setWaterMeterFactor: return "set-water-meter-factor"
        case .setThirdSectionDecoderKey: return "key-change-3"
        case .setFourthSectionDecoderKey: return "key-change-4"
        }
    }
}

/// The class 2 functions that set or clear a meter register (everything but key changes).
/// They share one layout: RND, TID and a 16-bit value.
public enum ManagementFunction: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Value: the limit in watts, amount-encoded like credit.
    case setMaximumPowerLimit = 0
    /// Value: the register to clear (0–7 as the credit subclasses, 0xFFFF = all).
    case clearCredit = 1
    /// Value: a raw 16-bit rate whose meaning is manufacturer-defined.
    case setTariffRate = 2
    /// Value: 0.
    case clearTamperCondition = 5
    /// Value: the limit in watts, amount-encoded like credit.
    case setMaximumPhasePowerUnbalanceLimit = 6
    /// Value: a raw 16-bit factor whose meaning is manufacturer-defined.
    case setWaterMeterFactor = 7

    /// Whether the value is a power in watts carried with the transfer-amount encoding.
    public var isPowerLimit: Bool { self == .setMaximumPowerLimit || self == .setMaximumPhasePowerUnbalanceLimit }

    /// The subclass in the data block.
    public var subclass: ManagementSubclass { ManagementSubclass(rawValue: rawValue)! }

    /// The function's command-line name, as `stsvend token management --function` takes it.
    public var description: String { subclass.description }

    /// Looks a function up by its command-line name; nil for an unknown name (key-change subclasses
    /// have no function).
    public init?(name: String) {
        guard let f = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = f
    }
}
