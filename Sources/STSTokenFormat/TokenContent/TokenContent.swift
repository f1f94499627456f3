/// What a token says, independent of encryption: the typed view of a data block.
///
/// Vending builds a `TokenContent`, takes its ``dataBlock`` and encrypts it; decoding decrypts a
/// block and reads it back with ``init(block:tokenClass:keyBits:)``, which checks the CRC first.
public enum TokenContent: Hashable, Sendable {
    /// Class 0 credit in units (subclasses 0–3).
    case transferCredit(TransferCredit)
    /// Class 0 credit in money (subclasses 4–7).
    case currencyCredit(CurrencyCredit)
    /// Class 1 meter test or display.
    case meterTest(MeterTest)
    /// Class 2 register function: power limits, clear credit, tariff rate, tamper, water meter factor.
    case management(MeterManagement)
    /// Class 2 key-change section: one token of a key-change set.
    case keyChange(KeyChangeSection)

    /// The 2-bit class the token is sent with.
    public var tokenClass: TokenClass {
        switch self {
        case .transferCredit, .currencyCredit: return .transferCredit
        case .meterTest: return .meterTest
        case .management, .keyChange: return .management
        }
    }

    /// The plain data block: what vending encrypts (class 1: sends as it is).
    public var dataBlock: DataBlock {
        switch self {
        case let .transferCredit(t): return t.dataBlock
        case let .currencyCredit(t): return t.dataBlock
        case let .meterTest(t): return t.dataBlock
        case let .management(t): return t.dataBlock
        case let .keyChange(t): return t.dataBlock
        }
    }

    /// The TID, for the token types that carry one (credit and register management).
    public var tid: TokenIdentifier? {
        switch self {
        case let .transferCredit(t): return t.tid
        case let .currencyCredit(t): return t.tid
        case let .management(t): return t.tid
        case .meterTest, .keyChange: return nil
        }
    }

    /// Reads a plain data block: checks the CRC (CRC_C for currency credit), then the subclass.
    /// `keyBits` is the length of the decoder key in use (64 or 128); it decides how a class 2
    /// subclass 8 token is laid out.
    public init(block: DataBlock, tokenClass: TokenClass, keyBits: Int) throws(TokenDecodingError) {
        let sub = block.subclass
        switch tokenClass {
        case .transferCredit:
            guard let kind = CreditKind(rawValue: sub) else {
                // Undefined subclass: only a block that passes a CRC is a real unknown token.
                let readable = block.hasValidCRC(tokenClass: .transferCredit) || block.hasValidCRC(tokenClass: .transferCredit, currencyCRC: true)
                throw readable ? .unknownSubclass(tokenClass: 0, subclass: sub) : .crc
            }
            guard block.hasValidCRC(tokenClass: .transferCredit, currencyCRC: kind.isCurrency) else { throw .crc }
            self = kind.isCurrency ? .currencyCredit(CurrencyCredit(block: block, kind: kind))
                                   : .transferCredit(TransferCredit(block: block, kind: kind))
        case .meterTest:
            guard block.hasValidCRC(tokenClass: .meterTest) else { throw .crc }
            guard sub <= 1 else { throw .unknownSubclass(tokenClass: 1, subclass: sub) }
            self = .meterTest(MeterTest(block: block))
        case .management:
            guard block.hasValidCRC(tokenClass: .management) else { throw .crc }
            guard let subclass = ManagementSubclass(rawValue: sub) else { throw .unknownSubclass(tokenClass: 2, subclass: sub) }
            if let function = ManagementFunction(rawValue: sub) {
                self = .management(MeterManagement(block: block, function: function))
            } else {
                self = .keyChange(try KeyChangeSection(block: block, subclass: subclass, keyBits: keyBits))
            }
        case .reserved:
            throw .reservedClass
        }
    }
}
