import Foundation
import STSAuditLog
import STSCard
import STSCrypto
import STSMeterSimulator
import STSStation
import STSTariff
import STSTokenFormat
import STSVending
import Testing

/// A channel that loses the card after a number of APDUs (a card pulled mid-sale).
struct PullingCard: CardChannel {
    var inner: InMemoryCard
    var remaining: Int
    struct Removed: Error {}
    mutating func transmit(_ command: CommandAPDU) throws -> ResponseAPDU {
        guard remaining > 0 else { throw Removed() }
        remaining -= 1
        return try inner.transmit(command)
    }
}

/// Card meters sold from the station, through the library calls a front uses.
@Suite struct StationCardTests {
    static let issuerKey: [UInt8] = Array(0..<16)
    static let pan = try! MeterPAN(meterNumber: "600727000000000009")

    final class Shop {
        let h: StationHarness
        var card = InMemoryCard(CardApplication(image: .init(serial: [1, 2, 3, 4, 5, 6, 7, 8])))
        var meter: SimulatedMeter
        let master = try! IssuerMasterKey(bytes: StationCardTests.issuerKey)
        var requests = 0

        init() throws {
            h = try StationHarness()
            let sue = try h.supervisor()
            try h.station.importKey(name: "k1", bytes: try VendingKey.hexBytes(StationHarness.k1), attributes: try StationHarness.attributes(), by: sue)
            try h.station.importCardIssuerKey(name: "cards", bytes: StationCardTests.issuerKey, by: try h.supervisor())
            _ = try h.station.setTariff(try Tariff(name: "flat", blocks: [TariffBlock(upToTenths: nil, price: EnergyPrice("1.00"))]), by: try h.supervisor())
            try h.station.addMeter(MeterRegistration(pan: StationCardTests.pan, keyName: "k1", tariff: "flat", customer: "Ben", kind: .card), by: try h.user("olly"))
            meter = SimulatedMeter(state: try StationHarness.meter(StationCardTests.pan.description).state)
            var session = CardSession(channel: card)
            _ = try h.station.issueCard(&session, meter: StationCardTests.pan, by: try h.user("olly"))
            card = session.channel
        }

        func sell(_ money: String, id: String? = nil) throws -> CardSaleResult {
            requests += 1
            var session = CardSession(channel: card)
            defer { card = session.channel }
            h.clock += 60
            return try h.station.sellOnCard(SaleRequest(meter: StationCardTests.pan, amount: .money(try Money(money)), requestID: id ?? "r\(requests)"),
                                            by: try h.user("olly"), card: &session)
        }

        func insert() throws -> String {
            var session = CardSession(channel: card)
            defer { card = session.channel }
            return try meter.insertCard(&session, master: master, at: h.clock).result
        }
    }

    @Test("sold onto the card, applied once by the meter; a plain sale of a card meter is refused; the card blocks until applied")
    func sellAndApply() throws {
        let shop = try Shop()
        #expect(throws: StationError.refused(.cardMeterNeedsCard(meter: Self.pan.description))) {
            try shop.h.station.sell(SaleRequest(meter: Self.pan, amount: .money(try Money("1.00")), requestID: "x"), by: try shop.h.user("olly"))
        }
        let first = try shop.sell("12.30")
        #expect(first.purchase.sequence == 1 && first.purchase.units == 123 && !first.completedPending)
        let receiptText = String(decoding: first.receipt?.json ?? [], as: UTF8.self)
        #expect(receiptText.contains(#""card":{"serial":"0102030405060708","sequence":1}"#))
        #expect(throws: StationError.refused(.cardBusy(sequence: 1))) { try shop.sell("1.00") }
        #expect(try shop.insert() == "accept")
        #expect(try shop.insert() == "used")
        let second = try shop.sell("2.00", id: "second")
        #expect(second.purchase.sequence == 2 && second.purchase.tid > first.purchase.tid)
        #expect(try shop.insert() == "accept" && shop.meter.electricityTenths == 143)
        // The same request id again: the original sale, nothing written twice.
        let replay = try shop.sell("2.00", id: "second")
        #expect(replay.receipt?.replayed == true && replay.receipt?.saleID == second.receipt?.saleID)
    }

    @Test("a card pulled mid-write: the sale stays pending and the next attempt writes that purchase, not a new sale")
    func pulled() throws {
        let shop = try Shop()
        var session = CardSession(channel: PullingCard(inner: shop.card, remaining: 8))
        #expect {
            try shop.h.station.sellOnCard(SaleRequest(meter: Self.pan, amount: .money(try Money("5.00")), requestID: "p1"), by: try shop.h.user("olly"), card: &session)
        } throws: { error in
            guard case .cardUnreachable = error as? StationError else { return false }
            return (error as? StationError)?.exitCode == 7
        }
        shop.card = session.channel.inner
        var reading = CardSession(channel: shop.card)
        #expect(try shop.h.station.readCard(&reading, by: try shop.h.user("olly")).pending?.record.sequence == 1)
        let completed = try shop.sell("50.00")
        #expect(completed.completedPending && completed.purchase.units == 50 && completed.receipt?.saleID == 1)
        #expect(try shop.insert() == "accept" && shop.meter.electricityTenths == 50)
        let next = try shop.sell("1.00")
        #expect(next.purchase.sequence == 2 && next.receipt?.saleID == 2, "the 50.00 request was never sold")
    }

    @Test("a pending purchase overtaken by another station's is refused until voided; a refused purchase voided is replaced")
    func overtakenAndVoided() throws {
        let shop = try Shop()
        // Pending: the write never happened.
        var session = CardSession(channel: PullingCard(inner: shop.card, remaining: 5))
        _ = try? shop.h.station.sellOnCard(SaleRequest(meter: Self.pan, amount: .money(try Money("3.00")), requestID: "p1"), by: try shop.h.user("olly"), card: &session)
        // Another station writes purchase 1 onto the card.
        var other = CardSession(channel: shop.card)
        let foreign = PurchaseRecord(sequence: 1, station: 99, issuedMinute: 1, units: 10, kind: .electricity,
                                     tokens: [try TokenNumber("12345678901234567890")], tid: 1)
        _ = try CardVending.sell(&other, master: shop.master, expectedMeter: Self.pan, record: foreign)
        shop.card = other.channel
        #expect(throws: StationError.refused(.cardOvertaken(sale: 1, sequence: 1, cardSequence: 1))) { try shop.sell("1.00") }
        let sue = try shop.h.supervisor()
        #expect(throws: StationError.secondFactorRequired(action: "void card purchases")) {
            try shop.h.station.voidCardPurchase(meter: Self.pan, sequence: 1, reason: "overtaken", by: try shop.h.user("sue"))
        }
        // Its write had started (the card was pulled during it): only the card can show it is gone.
        #expect(throws: StationError.self) {
            try shop.h.station.voidCardPurchase(meter: Self.pan, sequence: 1, reason: "overtaken", by: try shop.h.supervisor())
        }
        var withCard = CardSession(channel: shop.card)
        let voided = try shop.h.station.voidCardPurchase(meter: Self.pan, sequence: 1, reason: "overtaken", by: sue, card: &withCard)
        shop.card = withCard.channel
        #expect(voided.creditRestored == Money(cents: 300) && voided.carriedCredit == Money(cents: 300))
        // The foreign purchase is the card's, not ours: the meter refuses its forged token, and the
        // station still will not stack a purchase on it.
        #expect(try shop.insert() != "accept")
        #expect(throws: StationError.refused(.cardBusy(sequence: 1))) { try shop.sell("1.00") }
    }

    @Test("a purchase the meter refused is voided and replaced by the next sale, numbered after the meter's last; the log verifies")
    func refusedThenReplaced() throws {
        let shop = try Shop()
        _ = try shop.sell("4.00")
        #expect(try shop.insert() == "accept")
        _ = try shop.sell("6.00")
        // The meter refuses purchase 2 (it lost its key: a fresh meter under another key).
        let good = shop.meter
        shop.meter = SimulatedMeter(state: try StationHarness.meter(Self.pan.description, keyHex: StationHarness.k2).state)
        shop.meter.cardSequences = good.cardSequences
        #expect(try shop.insert() != "accept")
        shop.meter = good
        // Written to the card: only with the card, which shows the meter's refusal.
        #expect(throws: StationError.self) {
            try shop.h.station.voidCardPurchase(meter: Self.pan, sequence: 2, reason: "meter refused it", by: try shop.h.supervisor())
        }
        var session = CardSession(channel: shop.card)
        let voided = try shop.h.station.voidCardPurchase(meter: Self.pan, sequence: 2, reason: "meter refused it", by: try shop.h.supervisor(), card: &session)
        shop.card = session.channel
        #expect(voided.creditRestored == Money(cents: 600))
        // The void took it off the card: no meter can apply it any more.
        var check = CardSession(channel: shop.card)
        #expect(try CardVending.read(&check, master: shop.master).purchase == nil)
        #expect(try shop.insert() == "used")
        #expect(throws: StationError.refused(.cardSaleNeedsVoid(sale: 2))) { try shop.h.station.reverse(sale: 2, reason: "x", by: try shop.h.supervisor()) }
        let replacement = try shop.sell("1.00")
        #expect(replacement.purchase.sequence == 2 && replacement.purchase.units == 70, "1.00 paid + 6.00 carried back")
        #expect(try shop.insert() == "accept" && shop.meter.electricityTenths == 110)
        // A card sale is never reversed: its purchase is on the card.
        #expect(throws: StationError.refused(.cardSaleNeedsVoid(sale: 3))) { try shop.h.station.reverse(sale: 3, reason: "x", by: try shop.h.supervisor()) }

        let out = shop.h.folder + "/log.jsonl"
        let (_, head) = try shop.h.station.exportLog(to: out, by: try shop.h.user("ada"))
        let report = AuditVerifier(publicKey: shop.h.station.publicKey, keys: ["k1": try VendingKey(hex: StationHarness.k1)])
            .verify(Array(try Data(contentsOf: URL(fileURLWithPath: out))), head: head)
        #expect(report.isClean, "\(report.problems)")
        #expect(report.cardVoids == 1 && report.sales == 3 && report.tokensDecrypted == 3)
    }
}

extension StationCardTests {
    @Test("a keypad sale after a card sale cannot be reversed once the card sale is voided: the void gave credit the reversal would take back")
    func reversalAfterVoid() throws {
        let shop = try Shop()
        _ = try shop.sell("4.00")
        let keypad = try shop.h.station.sell(SaleRequest(meter: Self.pan, amount: .money(try Money("2.00")), requestID: "k1", delivery: .keypad),
                                             by: try shop.h.user("olly"))
        #expect(keypad.tokens.count == 1)
        // The card was never inserted: the purchase is delivered but shows no refusal yet.
        var session = CardSession(channel: shop.card)
        #expect(throws: StationError.self) {
            try shop.h.station.voidCardPurchase(meter: Self.pan, sequence: 1, reason: "lost", by: try shop.h.supervisor(), card: &session)
        }
        // The meter refuses it (another key), then the void goes through.
        let good = shop.meter
        shop.meter = SimulatedMeter(state: try StationHarness.meter(Self.pan.description, keyHex: StationHarness.k2).state)
        #expect(try shop.insert() != "accept")
        shop.meter = good
        session = CardSession(channel: shop.card)
        _ = try shop.h.station.voidCardPurchase(meter: Self.pan, sequence: 1, reason: "refused", by: try shop.h.supervisor(), card: &session)
        shop.card = session.channel
        #expect(throws: StationError.refused(.voidedAfterSale(sale: keypad.saleID))) {
            try shop.h.station.reverse(sale: keypad.saleID, reason: "x", by: try shop.h.supervisor())
        }
    }
}

/// KEK rotation, user disable and tariff assignment as library calls.
@Suite struct StationAdministrationTests {
    @Test("KEK rotation: every secret moves, the old key no longer opens the station, the same key is refused")
    func kekRotation() throws {
        let h = try StationHarness()
        try h.station.importKey(name: "k1", bytes: try VendingKey.hexBytes(StationHarness.k1), attributes: try StationHarness.attributes(), by: try h.supervisor())
        try h.station.importCardIssuerKey(name: "cards", bytes: Array(0..<16), by: try h.supervisor())
        let same = h.folder + "/station.db.kek"
        #expect(throws: StationError.refused(.sameKeyEncryptionKey)) { try h.station.rotateKeyEncryptionKey(newKEKPath: same, by: try h.supervisor()) }
        let fresh = h.folder + "/new.kek"
        _ = try KeyEncryptionKey.generate(writingTo: fresh)
        // A second process that opened the station before the rotation.
        let other = try Station.open(path: h.folder + "/station.db")
        other.now = { [unowned h] in h.clock }
        let r = try h.station.rotateKeyEncryptionKey(newKEKPath: fresh, by: try h.supervisor())
        h.clock += 30
        // It can no longer open (or seal) anything under the retired key.
        #expect(throws: StationError.wrongKeyEncryptionKey) {
            let sueThere = try other.authenticate(user: "sue", password: h.password,
                                                  totp: TOTP(secret: h.supervisorSecret).code(atUnixSeconds: h.clock), action: "test")
            try other.importCardIssuerKey(name: "late", bytes: Array(0..<16), by: sueThere)
        }
        // kek check, signing key, one vending key, one card issuer key, three users' second factors.
        #expect(r.secrets == 7)
        #expect(throws: StationError.wrongKeyEncryptionKey) { try Station.open(path: h.folder + "/station.db") }
        let reopened = try Station.open(path: h.folder + "/station.db", kekPath: fresh)
        #expect(reopened.publicKey.rawRepresentation == h.station.publicKey.rawRepresentation)
        #expect(try reopened.keys().map(\.name) == ["k1"])
        // The rotating object seals under the new key from now on: its next key opens with the new file.
        try h.station.importKey(name: "k2", bytes: try VendingKey.hexBytes(StationHarness.k2), attributes: try StationHarness.attributes(krn: 2), by: try h.supervisor())
        #expect(try Station.open(path: h.folder + "/station.db", kekPath: fresh).keys().map(\.name) == ["k1", "k2"])
    }

    @Test("a supervisor cannot disable themselves; a disabled user cannot sign in")
    func disable() throws {
        let h = try StationHarness()
        #expect(throws: StationError.refused(.disableSelf)) { try h.station.disableUser(name: "sue", by: try h.supervisor()) }
        try h.station.disableUser(name: "olly", by: try h.supervisor())
        #expect(throws: StationError.authenticationFailed) { try h.user("olly") }
    }
}

extension StationCardTests {
    @Test("a card front's journal moves in once: its TIDs are never reused, its pending purchase is completed on the card")
    func journalImport() throws {
        let shop = try Shop()
        let path = shop.h.folder + "/card-sales.jsonl"
        let journal = CardSalesJournal(path: path)
        #expect(throws: StationError.notFound("card sales journal \(path)")) { try shop.h.station.importCardJournal(journal, by: try shop.h.supervisor()) }
        let token = try TokenNumber("12345678901234567890")
        let pending = PurchaseRecord(sequence: 1, station: 7, issuedMinute: 1, units: 25, kind: .electricity, tokens: [token], tid: 16_000_000)
        try journal.append(.init(serial: "0102030405060708", record: pending, meter: Self.pan, tid: pending.tid, state: "pending"))
        try journal.append(.init(serial: "FFFFFFFFFFFFFFFF", record: pending, meter: try MeterPAN(meterNumber: "01234567897"), tid: 9, state: "delivered"))
        let r = try shop.h.station.importCardJournal(journal, by: try shop.h.supervisor())
        #expect(r.entries == 2 && r.imported == 1 && r.pending == 1 && r.skipped == 1, "the second meter is not this station's")
        #expect(try shop.h.station.importCardJournal(journal, by: try shop.h.supervisor()).imported == 0, "a repeated import changes nothing")
        // The next card presentation completes the journal's purchase, with no station receipt.
        let completed = try shop.sell("9.00")
        #expect(completed.completedPending && completed.receipt == nil && completed.purchase == pending)
        // Every sale after the import gets a TID past the journal's.
        let keypad = try shop.h.station.sell(SaleRequest(meter: Self.pan, amount: .money(try Money("1.00")), requestID: "k", delivery: .keypad),
                                             by: try shop.h.user("olly"))
        #expect((keypad.tid ?? 0) > 16_000_000)
    }
}
