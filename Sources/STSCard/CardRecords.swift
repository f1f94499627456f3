import Crypto
import STSTokenFormat

/// The application's files: identifiers and sizes.
public enum CardFile: UInt8, CaseIterable, Sendable {
    /// Card identity: type, serial, issuer, the meter it is bound to. Written by the issuer.
    case cardInfo = 1
    /// The purchase the meter is to apply. Written by the vending station.
    case purchase = 2
    /// What the meter last applied and its readings. Written by the meter.
    case returnData = 3

    /// The file identifier (SFI n is FID 000n).
    public var fid: UInt16 { UInt16(rawValue) }
    /// The file's fixed size in bytes (32, 72 or 64).
    public var size: Int {
        switch self {
        case .cardInfo: return 32
        case .purchase: return 72
        case .returnData: return 64
        }
    }
}

/// The application identifier (a proprietary `F…` RID, unregistered).
public let stsCardAID: [UInt8] = [0xF0, 0x53, 0x54, 0x53, 0x43, 0x41, 0x52, 0x44]  // F0 "STSCARD"

/// What a card is for.
public enum CardType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The type codes in CardInfo byte 1: a customer's user card, a key-change card, a test card, an authority card.
    case user = 1, keyChange = 2, test = 3, authority = 4
    /// The type's name as printed (`user`, `key-change`, `test`, `authority`).
    public var description: String {
        switch self {
        case .user: return "user"
        case .keyChange: return "key-change"
        case .test: return "test"
        case .authority: return "authority"
        }
    }
}

/// Big-endian helpers for the fixed layouts.
extension Array where Element == UInt8 {
    func uint(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 << 8 | UInt64(self[at + $1]) } }
    mutating func put(_ v: UInt64, _ at: Int, _ n: Int) {
        for i in 0..<n { self[at + i] = UInt8(truncatingIfNeeded: v >> UInt64(8 * (n - 1 - i))) }
    }
}

/// File 1, 32 bytes: version(1) type(1) serial(8) issuer(4) meterPAN(8) reserved(2) MAC(8).
/// The MAC (purchase key) binds the card to its meter so a card cannot be re-pointed by hand.
public struct CardInfo: Equatable, Sendable {
    /// What the card is for.
    public var type: CardType
    /// The card serial (8 bytes), the factor the card's keys are diversified by.
    public var serial: [UInt8]
    /// The issuer id written at issue.
    public var issuer: UInt32
    /// The meter the card is bound to; the MAC stops it being re-pointed to another.
    public var meter: MeterPAN

    /// Card info from its fields.
    public init(type: CardType, serial: [UInt8], issuer: UInt32, meter: MeterPAN) {
        self.type = type
        self.serial = serial
        self.issuer = issuer
        self.meter = meter
    }

    /// The 32 bytes of file 1, MAC'd under the card's purchase key.
    public func encode(keys: CardKeys) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 32)
        b[0] = 1
        b[1] = type.rawValue
        b.replaceSubrange(2..<10, with: serial)
        b.put(UInt64(issuer), 10, 4)
        b.put(meter.value, 14, 8)
        b.replaceSubrange(24..<32, with: CardKeys.mac(keys.purchaseMAC, Array(b[0..<24])))
        return b
    }

    /// Reads file 1, checking its version and its MAC under the card's purchase key.
    public init(bytes b: [UInt8], keys: CardKeys) throws(CardError) {
        guard b.count >= 32, b[0] == 1 else { throw .badRecord("the card is not personalised for this application (card info version \(b.first ?? 0))") }
        guard constantTimeEqual(CardKeys.mac(keys.purchaseMAC, Array(b[0..<24])), Array(b[24..<32])) else { throw .macMismatch("card info") }
        guard let type = CardType(rawValue: b[1]) else { throw .badRecord("unknown card type \(b[1])") }
        guard let pan = try? MeterPAN(String(b.uint(14, 8)).leftPadded(18)) else { throw .badRecord("the card's meter number is invalid") }
        self.init(type: type, serial: Array(b[2..<10]), issuer: UInt32(b.uint(10, 4)), meter: pan)
    }
}

/// File 2, 72 bytes: version(1) tokenCount(1) sequence(4) station(4) issuedMinute(4) units(4)
/// creditKind(1) reserved(1) tokens(4 × 9) TID(4) reserved(4) MAC(8). The MAC covers bytes 0–63,
/// the meter PAN and the card serial, so a purchase cannot be moved to another card or meter.
public struct PurchaseRecord: Equatable, Sendable {
    /// The purchase number on this card; a meter applies it only when it is exactly one more than the last it applied.
    public var sequence: UInt32
    /// The id of the vending station that sold it.
    public var station: UInt32
    /// Minutes since 1970 (UTC) when sold.
    public var issuedMinute: UInt32
    /// What the tokens credit, in transfer units, for receipts and checks.
    public var units: UInt32
    /// The credit kind: the STS class 0 subclass of the credit token (electricity, currency, …).
    public var kind: CreditKind
    /// The STS tokens the meter applies (1–4).
    public var tokens: [TokenNumber]
    /// The TID of the credit token (0 for sets without one, such as key changes).
    public var tid: UInt32

    /// A purchase from its fields (TID 0 for token sets without one).
    public init(sequence: UInt32, station: UInt32, issuedMinute: UInt32, units: UInt32, kind: CreditKind, tokens: [TokenNumber], tid: UInt32 = 0) {
        self.sequence = sequence
        self.station = station
        self.issuedMinute = issuedMinute
        self.units = units
        self.kind = kind
        self.tokens = tokens
        self.tid = tid
    }

    /// The 72 bytes of file 2, MAC'd with the meter PAN and card serial; throws unless it carries 1–4 tokens.
    public func encode(keys: CardKeys, meter: MeterPAN, serial: [UInt8]) throws(CardError) -> [UInt8] {
        guard (1...4).contains(tokens.count) else { throw .badRecord("a purchase carries 1 to 4 tokens") }
        var b = [UInt8](repeating: 0, count: 72)
        b[0] = 1
        b[1] = UInt8(tokens.count)
        b.put(UInt64(sequence), 2, 4)
        b.put(UInt64(station), 6, 4)
        b.put(UInt64(issuedMinute), 10, 4)
        b.put(UInt64(units), 14, 4)
        b[18] = kind.rawValue
        for (i, t) in tokens.enumerated() {
            b[20 + 9 * i] = t.high
            b.put(t.low, 21 + 9 * i, 8)
        }
        b.put(UInt64(tid), 56, 4)
        b.replaceSubrange(64..<72, with: Self.mac(Array(b[0..<64]), keys: keys, meter: meter, serial: serial))
        return b
    }

    /// Reads a purchase; nil for an empty file (no purchase yet). Throws when the MAC fails.
    public static func decode(_ b: [UInt8], keys: CardKeys, meter: MeterPAN, serial: [UInt8]) throws(CardError) -> PurchaseRecord? {
        guard b.count >= 72 else { throw .badRecord("purchase file too short") }
        if b.allSatisfy({ $0 == 0 }) { return nil }
        guard constantTimeEqual(mac(Array(b[0..<64]), keys: keys, meter: meter, serial: serial), Array(b[64..<72])) else {
            throw .macMismatch("the purchase record")
        }
        guard b[0] == 1, (1...4).contains(b[1]), let kind = CreditKind(rawValue: b[18]) else { throw .badRecord("malformed purchase record") }
        let tokens = (0..<Int(b[1])).map { TokenNumber(high: b[20 + 9 * $0], low: b.uint(21 + 9 * $0, 8)) }
        return PurchaseRecord(sequence: UInt32(b.uint(2, 4)), station: UInt32(b.uint(6, 4)), issuedMinute: UInt32(b.uint(10, 4)),
                              units: UInt32(b.uint(14, 4)), kind: kind, tokens: tokens, tid: UInt32(b.uint(56, 4)))
    }

    static func mac(_ body: [UInt8], keys: CardKeys, meter: MeterPAN, serial: [UInt8]) -> [UInt8] {
        var pan = [UInt8](repeating: 0, count: 8)
        pan.put(meter.value, 0, 8)
        return CardKeys.mac(keys.purchaseMAC, body + pan + serial)
    }
}

/// File 3, 64 bytes, written by the meter: version(1) result(1) lastSequence(4) credit(8, signed
/// tenths) consumption(8, tenths) flags(2) minute(4) meterPAN(8) reserved(20) MAC(8). The MAC
/// (return key) covers bytes 0–55 and the card serial.
public struct ReturnRecord: Equatable, Sendable {
    /// Flag bits.
    public static let tamperFlag: UInt16 = 1, relayOpenFlag: UInt16 = 2, sequenceGapFlag: UInt16 = 4

    /// The meter's result for the last insertion (the code of ``CardInsertionResult``).
    public var result: UInt8
    /// The last purchase sequence the meter applied.
    public var lastSequence: UInt32
    /// The meter's remaining credit, in signed tenths.
    public var creditTenths: Int64
    /// The meter's cumulative consumption, in tenths.
    public var consumptionTenths: UInt64
    /// The meter's state bits: ``tamperFlag``, ``relayOpenFlag``, ``sequenceGapFlag``.
    public var flags: UInt16
    /// The meter's clock when it wrote the record, minutes since 1970 (UTC).
    public var minute: UInt32
    /// The PAN of the meter that wrote the record.
    public var meter: MeterPAN

    /// A return record from its fields.
    public init(result: UInt8, lastSequence: UInt32, creditTenths: Int64, consumptionTenths: UInt64, flags: UInt16,
                minute: UInt32, meter: MeterPAN) {
        self.result = result
        self.lastSequence = lastSequence
        self.creditTenths = creditTenths
        self.consumptionTenths = consumptionTenths
        self.flags = flags
        self.minute = minute
        self.meter = meter
    }

    /// The 64 bytes of file 3, MAC'd with the card serial under the card's return key.
    public func encode(keys: CardKeys, serial: [UInt8]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 64)
        b[0] = 1
        b[1] = result
        b.put(UInt64(lastSequence), 2, 4)
        b.put(UInt64(bitPattern: creditTenths), 6, 8)
        b.put(consumptionTenths, 14, 8)
        b.put(UInt64(flags), 22, 2)
        b.put(UInt64(minute), 24, 4)
        b.put(meter.value, 28, 8)
        b.replaceSubrange(56..<64, with: CardKeys.mac(keys.returnMAC, Array(b[0..<56]) + serial))
        return b
    }

    /// Reads a return record; nil when the meter has not written one yet.
    public static func decode(_ b: [UInt8], keys: CardKeys, serial: [UInt8]) throws(CardError) -> ReturnRecord? {
        guard b.count >= 64 else { throw .badRecord("return file too short") }
        if b.allSatisfy({ $0 == 0 }) { return nil }
        guard constantTimeEqual(CardKeys.mac(keys.returnMAC, Array(b[0..<56]) + serial), Array(b[56..<64])) else {
            throw .macMismatch("the meter's return record")
        }
        guard b[0] == 1, let pan = try? MeterPAN(String(b.uint(28, 8)).leftPadded(18)) else { throw .badRecord("malformed return record") }
        return ReturnRecord(result: b[1], lastSequence: UInt32(b.uint(2, 4)), creditTenths: Int64(bitPattern: b.uint(6, 8)),
                            consumptionTenths: b.uint(14, 8), flags: UInt16(b.uint(22, 2)), minute: UInt32(b.uint(24, 4)), meter: pan)
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
