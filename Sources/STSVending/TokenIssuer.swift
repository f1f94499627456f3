import STSCrypto
import STSTokenFormat

/// Issues tokens for one meter: credit, management and key changes.
///
/// Creating an issuer derives the meter's decoder key once; each token after that is integer
/// work only (build the block, CRC, encrypt, splice the class): no strings, no allocation.
/// Every check (amount range, TID range, key expiry) runs before anything is encrypted, so a
/// request either yields a correct token or a typed error, never a wrong token.
public struct TokenIssuer: Sendable {
    /// The meter tokens are issued for: its key attributes and key expiry number.
    public let meter: MeterProfile
    @usableFromInline let cipher: TokenCipher
    /// Whether EA09 (no public vector) may be used, also as the target of a key change.
    public let allowUnverified: Bool

    /// An issuer that derives the meter's decoder key from the supply group's vending key.
    @inlinable public init(meter: MeterProfile, vendingKey: VendingKey, allowUnverified: Bool = false) throws {
        self.meter = meter
        self.allowUnverified = allowUnverified
        cipher = try TokenCipher(key: meter.decoderKey(vendingKey: vendingKey), algorithm: meter.encryption,
                                 allowUnverified: allowUnverified)
    }

    /// An issuer with a decoder key already known (test benches, meter manufacturing).
    public init(meter: MeterProfile, decoderKey: DecoderKey, allowUnverified: Bool = false) throws {
        self.meter = meter
        self.allowUnverified = allowUnverified
        cipher = try TokenCipher(key: decoderKey, algorithm: meter.encryption, allowUnverified: allowUnverified)
    }

    /// Encrypts (classes 0 and 2) and splices in the class.
    @inlinable func seal(_ content: TokenContent, _ block: DataBlock) -> IssuedToken {
        let tokenClass = content.tokenClass
        let encrypted = tokenClass.isEncrypted ? cipher.encrypt(block.rawValue) : block.rawValue
        return IssuedToken(number: TokenNumber(block: encrypted, tokenClass: tokenClass), content: content, dataBlock: block)
    }

    @inlinable func checkTID(_ tid: TokenIdentifier) throws(VendingError) {
        guard !tid.isReserved else { throw .reservedTID(tid.value) }
        guard meter.expiry.permits(tid) else { throw .keyExpired(tid: tid.value, expiry: meter.expiry.value) }
    }

    /// Credit in transfer units (tenths of kWh, kl, m³ or minutes), rounded up to the next
    /// representable amount; ``IssuedToken/encodedUnits`` tells what was encoded.
    @inlinable public func credit(_ kind: CreditKind, units: UInt64, tid: TokenIdentifier, rnd: UInt8) throws -> IssuedToken {
        guard !kind.isCurrency else { throw VendingError.invalidValue("\(kind) credit takes a money amount, not units") }
        guard units > 0 else { throw VendingError.zeroCredit }
        let amount = try TransferAmount(roundingUp: units)
        try checkTID(tid)
        let credit = TransferCredit(kind: kind, rnd: rnd, tid: tid, amount: amount)
        return seal(.transferCredit(credit), credit.dataBlock)
    }

    /// Credit in money (10⁻⁵ units of the currency, signed), rounded up to the next
    /// representable amount; ``IssuedToken/encodedCurrencyUnits`` tells what was encoded.
    public func currencyCredit(_ kind: CreditKind, units: Int128, tid: TokenIdentifier) throws -> IssuedToken {
        guard kind.isCurrency else { throw VendingError.invalidValue("\(kind) credit takes units, not a money amount") }
        guard units != 0 else { throw VendingError.zeroCredit }
        let amount = try CurrencyAmount(roundingUp: units)
        try checkTID(tid)
        let credit = CurrencyCredit(kind: kind, tid: tid, amount: amount)
        return seal(.currencyCredit(credit), credit.dataBlock)
    }

    /// A register management token. `value` is watts for the two power limits (rounded up to
    /// the next representable value), the register number (0–7, or 65535 for all) for clear
    /// credit, 0 for clear tamper, and the raw 16-bit value otherwise.
    public func management(_ function: ManagementFunction, value: UInt64, tid: TokenIdentifier, rnd: UInt8) throws -> IssuedToken {
        let field: UInt16
        switch function {
        case .setMaximumPowerLimit, .setMaximumPhasePowerUnbalanceLimit:
            guard value <= TransferAmount.maximumUnits else {
                throw VendingError.invalidValue("power limit \(value) W is above the largest encodable \(TransferAmount.maximumUnits) W")
            }
            field = try TransferAmount(roundingUp: value).field
        case .clearCredit:
            guard value <= 7 || value == 0xFFFF else {
                throw VendingError.invalidValue("clear-credit register must be 0–7 (as the credit subclasses) or 65535 for all; got \(value)")
            }
            field = UInt16(value)
        case .clearTamperCondition:
            guard value == 0 else { throw VendingError.invalidValue("clear-tamper carries no value (0); got \(value)") }
            field = 0
        case .setTariffRate, .setWaterMeterFactor:
            guard value <= 0xFFFF else { throw VendingError.invalidValue("\(function) value must fit 16 bits (0–65535); got \(value)") }
            field = UInt16(value)
        }
        try checkTID(tid)
        let token = MeterManagement(function: function, rnd: rnd, tid: tid, value: field)
        return seal(.management(token), token.dataBlock)
    }

    /// A class 1 meter test/display token: not encrypted, valid for any meter of the manufacturer.
    public static func meterTest(subclass: UInt8, control: UInt64, manufacturerCode: UInt16) throws -> IssuedToken {
        let test = try MeterTest(subclass: subclass, control: control, manufacturerCode: manufacturerCode)
        let block = test.dataBlock
        return IssuedToken(number: TokenNumber(block: block.rawValue, tokenClass: .meterTest), content: .meterTest(test), dataBlock: block)
    }

    /// Seals arbitrary content under this meter's key (used by key changes).
    func seal(_ content: TokenContent) -> IssuedToken { seal(content, content.dataBlock) }
}
