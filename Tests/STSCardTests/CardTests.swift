import Crypto
import CryptoExtras
import Foundation
import STSCrypto
import STSMeter
import STSMeterSimulator
import STSTestFixtures
import STSTokenFormat
import STSVending
import Testing
@testable import STSCard

/// A channel that loses the card after a number of APDUs (a card pulled mid-transaction).
struct PulledCard: CardChannel {
    var inner: InMemoryCard
    var remaining: Int
    struct Removed: Error {}
    mutating func transmit(_ command: CommandAPDU) throws -> ResponseAPDU {
        guard remaining > 0 else { throw Removed() }
        remaining -= 1
        return try inner.transmit(command)
    }
}

struct CardTests {
    static let master = try! IssuerMasterKey(hex: "000102030405060708090A0B0C0D0E0F")
    static let vk = try! VendingKey(hex: "ABABABABABABABAB949494949494949401234567")
    static let meterProfile = try! MeterProfile(
        pan: MeterPAN("600727000000000009"), supplyGroup: SupplyGroupCode("201457"), tariffIndex: TariffIndex(1),
        revision: KeyRevisionNumber(1), keyType: .unique, expiry: KeyExpiryNumber(255), baseDate: .y2014, derivation: .dkga04, encryption: .sta)

    static func blankCard(_ serialByte: UInt8 = 7) -> InMemoryCard {
        InMemoryCard(CardApplication(image: .init(serial: [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, serialByte])))
    }

    static func meter() throws -> SimulatedMeter {
        SimulatedMeter(state: try MeterState(keyParameters: meterProfile.keyParameters, expiry: meterProfile.expiry, vendingKey: vk))
    }

    static func purchase(_ sequence: UInt32, tid: UInt32, units: UInt64) throws -> PurchaseRecord {
        let token = try TokenIssuer(meter: meterProfile, vendingKey: vk).credit(.electricity, units: units, tid: TokenIdentifier(field: tid), rnd: 1)
        return PurchaseRecord(sequence: sequence, station: 9, issuedMinute: 29_000_000, units: UInt32(token.encodedUnits!), kind: .electricity, tokens: [token.number])
    }

    @Test("AES-CMAC known answers (RFC 4493)")
    func cmac() throws {
        let data = try Data(contentsOf: PublicVectors.root.appendingPathComponent("Fixtures/aes-cmac-rfc4493.json"))
        let o = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let key = SymmetricKey(data: Hex.decode(o["key"] as! String)!)
        for v in o["vectors"] as! [[String: String]] {
            var mac = try AES.CMAC(key: key)
            mac.update(data: Hex.decode(v["message"]!)!)
            #expect(Array(mac.finalize()).map { String(format: "%02x", $0) }.joined() == v["mac"]!)
            #expect(CardKeys.mac(key, Hex.decode(v["message"]!)!) == Array(Hex.decode(v["mac"]!)!.prefix(8)))
        }
    }

    @Test("round trip: issue, sell, meter applies, station reads the return, no double credit, next sale")
    func roundTrip() throws {
        var session = CardSession(channel: Self.blankCard())
        let info = try CardVending.issue(&session, master: Self.master, meter: Self.meterProfile.pan, issuer: 42)
        #expect(info.meter == Self.meterProfile.pan)
        var contents = try CardVending.read(&session, master: Self.master)
        #expect(contents.purchase == nil && contents.returned == nil && CardVending.nextSequence(contents) == 1)
        let first = try Self.purchase(1, tid: 6_000_000, units: 100)
        contents = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: first)
        #expect(throws: CardError.self, "no second purchase before the meter applies the first") {
            try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: try Self.purchase(2, tid: 6_000_002, units: 50))
        }
        var meter = try Self.meter()
        let applied = try meter.insertCard(&session, master: Self.master, at: 1_800_000_000)
        #expect(applied.result == "accept" && applied.tokenResults == [.accept])
        #expect(meter.electricityTenths == 100 && meter.cardSequences["1122334455667707"] == 1)
        let station = try CardVending.read(&session, master: Self.master)
        #expect(station.returned?.lastSequence == 1 && station.returned?.creditTenths == 100 && station.unappliedPurchase == nil)
        let again = try meter.insertCard(&session, master: Self.master, at: 1_800_000_100)
        #expect(again.result == "used" && meter.electricityTenths == 100)
        _ = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: try Self.purchase(2, tid: 6_000_002, units: 50))
        #expect(try meter.insertCard(&session, master: Self.master, at: 1_800_000_200).result == "accept")
        #expect(meter.electricityTenths == 150 && meter.cardSequences["1122334455667707"] == 2)
        // A replacement card for the same meter numbers its purchases from 1 again, and is credited.
        var replacement = CardSession(channel: Self.blankCard(8))
        _ = try CardVending.issue(&replacement, master: Self.master, meter: Self.meterProfile.pan, issuer: 42)
        _ = try CardVending.sell(&replacement, master: Self.master, expectedMeter: Self.meterProfile.pan, record: try Self.purchase(1, tid: 6_000_004, units: 5))
        #expect(try meter.insertCard(&replacement, master: Self.master, at: 1_800_000_300).result == "accept")
        #expect(meter.electricityTenths == 155)
    }

    @Test("a purchase whose token was typed on the keypad first counts as delivered: credited once, and the card takes the next sale")
    func typedBeforeInserted() throws {
        var session = CardSession(channel: Self.blankCard())
        _ = try CardVending.issue(&session, master: Self.master, meter: Self.meterProfile.pan, issuer: 42)
        let first = try Self.purchase(1, tid: 6_000_000, units: 100)
        _ = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: first)
        var meter = try Self.meter()
        // The customer reads the token off the receipt and keys it in, then inserts the card.
        #expect(meter.enter(first.tokens[0].description, at: 1_800_000_000).result == .accept)
        let inserted = try meter.insertCard(&session, master: Self.master, at: 1_800_000_060)
        #expect(inserted.result == "already-entered" && inserted.tokenResults == [.used], "\(inserted)")
        #expect(meter.electricityTenths == 100, "credited once")
        #expect(try CardVending.read(&session, master: Self.master).unappliedPurchase == nil, "the station sees it delivered")
        _ = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: try Self.purchase(2, tid: 6_000_002, units: 50))
        #expect(try meter.insertCard(&session, master: Self.master, at: 1_800_000_120).result == "accept")
        #expect(meter.electricityTenths == 150)
    }

    @Test("a card pulled mid-write: the sale completes on the next insertion, and is never applied twice")
    func pulledCard() throws {
        var session = CardSession(channel: Self.blankCard())
        _ = try CardVending.issue(&session, master: Self.master, meter: Self.meterProfile.pan, issuer: 42)
        let record = try Self.purchase(1, tid: 6_000_000, units: 100)
        // Pull the card at every step of the sale: open (2), three reads, challenge, update, read-back.
        for budget in 0..<8 {
            var pulled = CardSession(channel: PulledCard(inner: session.channel, remaining: budget))
            #expect(throws: (any Error).self) {
                try CardVending.sell(&pulled, master: Self.master, expectedMeter: Self.meterProfile.pan, record: record)
            }
            // What the card holds now is either nothing or the whole record, never a part.
            var check = CardSession(channel: pulled.channel.inner)
            let contents = try CardVending.read(&check, master: Self.master)
            #expect(contents.purchase == nil || contents.purchase == record)
        }
        // Delivering the same pending record again completes it (or confirms it).
        _ = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: record)
        _ = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: record)
        // Meter side: the card is pulled before the return record is written.
        var meter = try Self.meter()
        let contents = try CardVending.read(&session, master: Self.master)
        _ = meter.applyCard(contents, at: 0)   // state saved; the return write never happens
        #expect(meter.electricityTenths == 100)
        let retry = try meter.insertCard(&session, master: Self.master, at: 60)
        #expect(retry.result == "used" && meter.electricityTenths == 100)
        #expect(try CardVending.read(&session, master: Self.master).returned?.lastSequence == 1)
    }

    @Test("tampered cards are refused: edited purchase, edited card info, plain or forged writes")
    func tampering() throws {
        var session = CardSession(channel: Self.blankCard())
        _ = try CardVending.issue(&session, master: Self.master, meter: Self.meterProfile.pan, issuer: 42)
        _ = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: try Self.purchase(1, tid: 6_000_000, units: 100))
        var edited = session
        edited.channel.card.image.files[1][15] ^= 0x40   // units byte
        #expect(throws: CardError.macMismatch("the purchase record")) { try CardVending.read(&edited, master: Self.master) }
        var meter = try Self.meter()
        #expect(throws: CardError.self) { try meter.insertCard(&edited, master: Self.master, at: 0) }
        #expect(meter.electricityTenths == 0)
        var repointed = session
        repointed.channel.card.image.files[0][21] ^= 0x01  // meter number
        #expect(throws: CardError.self) { try CardVending.read(&repointed, master: Self.master) }
        // Another issuer's key cannot read or write this card.
        let other = try IssuerMasterKey(hex: "FF0102030405060708090A0B0C0D0E0F")
        #expect(throws: CardError.self) { try CardVending.read(&session, master: other) }
        // Writes without secure messaging, with a forged MAC, or replaying a challenge are refused.
        var c = session.channel.card
        #expect(c.process(CommandAPDU(ins: 0xD6, p1: 0x82, p2: 0, data: [1, 2, 3])).status == .securityNotSatisfied)
        _ = c.process(CommandAPDU(ins: 0x84, p1: 0, p2: 0, le: 8))
        #expect(c.process(CommandAPDU(cla: 0x04, ins: 0xD6, p1: 0x82, p2: 0, data: [UInt8](repeating: 1, count: 16))).status == .secureMessagingIncorrect)
        #expect(c.process(CommandAPDU(cla: 0x04, ins: 0xD6, p1: 0x82, p2: 0, data: [UInt8](repeating: 1, count: 16))).status == .securityNotSatisfied, "one MAC attempt per challenge")
        #expect(c.process(CommandAPDU(cla: 0x80, ins: 0xE0, p1: 0, p2: 0, data: [UInt8](repeating: 0, count: 32))).status == .conditionsNotSatisfied, "personalised once")
        #expect(c.process(CommandAPDU(cla: 0x90, ins: 0xB0, p1: 0x81, p2: 0, le: 32)).status == .claNotSupported)
        #expect(c.process(CommandAPDU(ins: 0xB0, p1: 0x87, p2: 0, le: 8)).status == .fileNotFound)
        #expect(c.process(CommandAPDU(ins: 0x20, p1: 0, p2: 0)).status == .insNotSupported)
    }

    @Test("sequence rules at the meter: gap refused, wrong meter refused")
    func sequenceRules() throws {
        var session = CardSession(channel: Self.blankCard())
        _ = try CardVending.issue(&session, master: Self.master, meter: Self.meterProfile.pan, issuer: 42)
        _ = try CardVending.sell(&session, master: Self.master, expectedMeter: Self.meterProfile.pan, record: try Self.purchase(1, tid: 6_000_000, units: 100))
        var contents = try CardVending.read(&session, master: Self.master)
        var meter = try Self.meter()
        var gap = contents
        gap.purchase?.sequence = 3
        #expect(meter.applyCard(gap, at: 0).result == "sequence-gap" && meter.electricityTenths == 0)
        contents.info.meter = try MeterPAN("600727111111111153")
        let foreign = meter.applyCard(contents, at: 0)
        #expect(foreign.result == "wrong-meter" && foreign.returned == nil, "another meter's card is never written")
        // A token already held (the same token keyed in by hand) delivers the purchase, without
        // crediting it twice (issue 10: a card stuck for good otherwise).
        var used = try Self.meter()
        _ = used.enter(contents.purchase!.tokens[0].digits, at: 0)
        var own = try CardVending.read(&session, master: Self.master)
        own.purchase = contents.purchase
        let outcome = used.applyCard(own, at: 0)
        #expect(outcome.result == "already-entered" && used.cardSequences.values.first == 1 && used.electricityTenths == 100)
        // A token refused for any other reason keeps the purchase pending.
        var tampered = try Self.meter()
        tampered.detectTamper(at: 0)
        let refused = tampered.applyCard(own, at: 0)
        #expect(refused.result == "tamper" && tampered.cardSequences.isEmpty)
        #expect(!"\(Self.master)".contains("0102"))
    }

    @Test("APDU encoding and parsing")
    func apdus() {
        let c = CommandAPDU(ins: 0xA4, p1: 4, p2: 0x0C, data: stsCardAID)
        #expect(CommandAPDU(bytes: c.bytes) == c)
        let r = CommandAPDU(ins: 0xB0, p1: 0x81, p2: 0, le: 32)
        #expect(r.bytes == [0x00, 0xB0, 0x81, 0x00, 0x20] && CommandAPDU(bytes: r.bytes) == r)
        #expect(CommandAPDU(bytes: [0, 1, 2]) == nil && CommandAPDU(bytes: [0, 0xD6, 0, 0, 5, 1]) == nil)
        #expect(ResponseAPDU(bytes: [1, 2, 0x90, 0x00]) == ResponseAPDU(data: [1, 2], status: .success))
        #expect(StatusWord(rawValue: 0x6988).description == "6988 (secure messaging data incorrect)")
    }
}
