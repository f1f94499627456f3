/// One token of a key-change set (class 2, subclasses 3, 4, 8, 9), carrying 32 bits of the new
/// decoder key and the new key's attributes.
///
/// - 64-bit keys: 2 tokens (first, second), or 3 when the first sets the 3-token flag and a
///   third token loads the supply group code.
/// - 128-bit keys: 4 tokens (first, second, third, fourth); the third and fourth also carry the
///   supply group code, 12 bits each.
///
/// The key fragments are secret: `description` and mirrors never show them.
public enum KeyChangeSection: Hashable, Sendable, CustomStringConvertible, CustomReflectable {
    /// Subclass 3: KENHO(4) KRN(4) RO(1) 3KCT(1) KT(2) NKHO(32).
    case first(kenHigh: UInt8, krn: UInt8, rollover: Bool, threeTokenSet: Bool, keyType: UInt8, keyHigh: UInt32)
    /// Subclass 4: KENLO(4) TI(8) NKLO(32).
    case second(kenLow: UInt8, tariffIndex: UInt8, keyLow: UInt32)
    /// Subclass 8 of a 3-token (64-bit key) set: the new SGC in 24 bits, then 20 zero bits.
    case supplyGroup(SupplyGroupCode)
    /// Subclass 8 of a 4-token (128-bit key) set: SGC bits 11..0 and key bytes 4..7.
    case third(sgcLow: UInt16, keyMiddle2: UInt32)
    /// Subclass 9 of a 4-token set: SGC bits 23..12 and key bytes 8..11.
    case fourth(sgcHigh: UInt16, keyMiddle1: UInt32)

    /// The class 2 subclass of this section.
    public var subclass: ManagementSubclass {
        switch self {
        case .first: return .setFirstSectionDecoderKey
        case .second: return .setSecondSectionDecoderKey
        case .supplyGroup, .third: return .setThirdSectionDecoderKey
        case .fourth: return .setFourthSectionDecoderKey
        }
    }

    /// The plain class 2 data block of this section (payload as documented on each case, CRC added).
    public var dataBlock: DataBlock {
        let payload: UInt64
        switch self {
        case let .first(kenHigh, krn, rollover, three, kt, key):
            payload = UInt64(kenHigh & 0xF) << 40 | UInt64(krn & 0xF) << 36 | (rollover ? 1 << 35 : 0)
                | (three ? 1 << 34 : 0) | UInt64(kt & 3) << 32 | UInt64(key)
        case let .second(kenLow, ti, key):
            payload = UInt64(kenLow & 0xF) << 40 | UInt64(ti) << 32 | UInt64(key)
        case let .supplyGroup(sgc):
            payload = UInt64(sgc.value) << 20
        case let .third(sgcLow, key):
            payload = UInt64(sgcLow & 0xFFF) << 32 | UInt64(key)
        case let .fourth(sgcHigh, key):
            payload = UInt64(sgcHigh & 0xFFF) << 32 | UInt64(key)
        }
        return DataBlock(tokenClass: .management, subclass: subclass.rawValue, payload: payload)
    }

    /// Reads a section; `keyBits` (64 or 128) tells how a subclass 8 token is laid out, which
    /// the block alone cannot say.
    init(block: DataBlock, subclass: ManagementSubclass, keyBits: Int) throws(TokenDecodingError) {
        let p = block.payload
        let key = UInt32(truncatingIfNeeded: p)
        switch subclass {
        case .setFirstSectionDecoderKey:
            self = .first(kenHigh: UInt8(p >> 40 & 0xF), krn: UInt8(p >> 36 & 0xF), rollover: p >> 35 & 1 == 1,
                          threeTokenSet: p >> 34 & 1 == 1, keyType: UInt8(p >> 32 & 3), keyHigh: key)
        case .setSecondSectionDecoderKey:
            self = .second(kenLow: UInt8(p >> 40 & 0xF), tariffIndex: UInt8(p >> 32 & 0xFF), keyLow: key)
        case .setThirdSectionDecoderKey where keyBits == 64:
            guard p & 0xF_FFFF == 0 else { throw .invalidField("the supply group key-change token has non-zero padding") }
            guard let sgc = try? SupplyGroupCode(value: UInt32(p >> 20)) else {
                throw .invalidField("the supply group code in the key-change token is above 999999")
            }
            self = .supplyGroup(sgc)
        case .setThirdSectionDecoderKey:
            self = .third(sgcLow: UInt16(p >> 32 & 0xFFF), keyMiddle2: key)
        case .setFourthSectionDecoderKey:
            self = .fourth(sgcHigh: UInt16(p >> 32 & 0xFFF), keyMiddle1: key)
        default:
            throw .unknownSubclass(tokenClass: 2, subclass: subclass.rawValue)
        }
    }

    /// Names the section and its public attributes, never the key bits.
    public var description: String {
        switch self {
        case let .first(kenHigh, krn, rollover, three, kt, _):
            return "key change 1/\(three ? 3 : 2 as Int)+ (KENHO \(kenHigh), KRN \(krn), RO \(rollover ? 1 : 0), KT \(kt), key bits redacted)"
        case let .second(kenLow, ti, _):
            return "key change 2 (KENLO \(kenLow), TI \(ti), key bits redacted)"
        case let .supplyGroup(sgc):
            return "key change 3 of 3 (SGC \(sgc))"
        case let .third(sgcLow, _):
            return "key change 3 of 4 (SGC low 12 bits \(sgcLow), key bits redacted)"
        case let .fourth(sgcHigh, _):
            return "key change 4 of 4 (SGC high 12 bits \(sgcHigh), key bits redacted)"
        }
    }

    /// A mirror that shows only ``description``, so debuggers and `dump` never reveal key bits.
    public var customMirror: Mirror { Mirror(self, children: ["section": description]) }
}
