import Foundation
import STSCrypto
import STSMeter
import STSStation
import STSTariff
import STSTokenFormat
import STSVending
import STSTestFixtures
import Testing

/// The point-of-sale channel of the station (issue 15), on SQLite and PostgreSQL: one sale per
/// message id whatever is repeated, reversals by the station's rules, credentials and address
/// allow-lists, blocked meters, free basic electricity as its own token.
@Suite("point-of-sale purchases")
struct POSPurchaseTests {
    static let pan = "600727000000000009"

    static func station(_ store: StoreKind) throws -> (StationHarness, POSClient, String) {
        let h = try StationHarness(store: store)
        try h.station.importKey(name: "k1", bytes: Array(try VendingKey.hexBytes(StationHarness.k1)), attributes: StationHarness.attributes(), by: h.supervisor())
        try h.station.setTariff(Tariff(name: "home", blocks: [TariffBlock(upToTenths: nil, price: EnergyPrice("2.00"))], freeBasicTenthsPerMonth: 50,
                                       vatBasisPoints: 0), by: h.supervisor())
        try h.station.addMeter(MeterRegistration(pan: MeterPAN(meterNumber: pan), keyName: "k1", tariff: "home", customer: "Alice Smith",
                                                 arrears: Money("10.00")), by: try h.user("olly"))
        let client = POSClient(name: "shop", allowedSources: try SourceAddressRule.list("10.0.0.0/8, ::1"), currency: "710",
                               minimum: try Money("5.00"), maximum: try Money("500.00"), reversals: true)
        let secret = try h.station.addPOSClient(client, by: h.supervisor())
        return (h, client, secret)
    }

    static func message(_ id: String, _ client: POSClient) -> POSMessage {
        POSMessage(id: id, client: client, origin: POSOrigin(institution: "1", merchant: "m", terminal: "t", settlement: ""), fingerprint: "purchase|50.00")
    }

    static func sale(_ id: String, money: String = "50.00") throws -> SaleRequest {
        var s = SaleRequest(meter: try MeterPAN(meterNumber: pan), amount: .money(try Money(money)), requestID: "pos:shop:\(id)", channel: "pos")
        s.separateFreeToken = true
        return s
    }

    @Test("credentials: the secret, an enabled client and an allowed address, each refused alike", arguments: StoreKind.allCases)
    func credentials(store: StoreKind) throws {
        let (h, client, secret) = try Self.station(store)
        #expect(try h.station.authenticatePOSClient(name: "shop", secret: secret, source: "10.1.2.3") == client)
        #expect(try h.station.authenticatePOSClient(name: "shop", secret: secret, source: "::1").name == "shop")
        for (name, s, source) in [("shop", "wrong", "10.1.2.3"), ("shop", secret, "192.168.1.1"), ("nobody", secret, "10.1.2.3"), ("shop", secret, "::ffff:11.0.0.1")] {
            #expect(throws: StationError.refused(.posClientRefused)) { try h.station.authenticatePOSClient(name: name, secret: s, source: source) }
        }
        try h.station.setPOSClient("shop", enabled: false, by: h.supervisor())
        #expect(throws: StationError.refused(.posClientRefused)) { try h.station.authenticatePOSClient(name: "shop", secret: secret, source: "10.1.2.3") }
        #expect(throws: StationError.self) { try h.station.addPOSClient(client, by: try h.user("olly")) }
        #expect(SourceAddressRule("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(SourceAddressRule("10.0.0.0/33") == nil && SourceAddressRule("fe80::/129") == nil && SourceAddressRule("example.org") == nil)
    }

    @Test("a purchase is sold once per id: a retry gets the stored answer, the id again is a duplicate; free units are their own token", arguments: StoreKind.allCases)
    func exactlyOnce(store: StoreKind) throws {
        let (h, client, _) = try Self.station(store)
        let id = UUID().uuidString.lowercased()
        var rendered = 0
        let first = try h.station.posPurchase(Self.message(id, client), sale: try Self.sale(id), retry: false) { s in
            rendered += 1
            #expect(s.tokens.map(\.free) == [true, false], "the free 5 kWh first, then the bought units")
            #expect(s.tokens.map(\.tenths) == [50, 200], "10.00 arrears, 40.00 buys 20 kWh at 2.00")
            #expect(s.meter.customer == "Alice Smith" && s.meter.arrears == .zero, "the view is after the sale")
            return Array("answer \(s.receipt.saleID) \(s.receipt.tokens.joined(separator: " "))".utf8)
        }
        #expect(!first.replayed && rendered == 1)
        let again = try h.station.posPurchase(Self.message(id, client), sale: try Self.sale(id), retry: true) { _ in rendered += 1; return [] }
        #expect(again.replayed && again.body == first.body && rendered == 1, "a retry returns the stored answer, no new sale")
        #expect(throws: StationError.refused(.posDuplicateMessage(id: id))) {
            _ = try h.station.posPurchase(Self.message(id, client), sale: try Self.sale(id), retry: false) { _ in [] }
        }
        var other = Self.message(id, client)
        other.fingerprint = "something else"
        #expect(throws: StationError.refused(.posRetryDiffers(id: id))) {
            _ = try h.station.posPurchase(other, sale: try Self.sale(id), retry: true) { _ in [] }
        }
        // The meter takes both tokens, in order, once.
        var meter = try StationHarness.meter(Self.pan)
        let tokens = String(decoding: first.body, as: UTF8.self).split(separator: " ").dropFirst(2).map(String.init)
        #expect(tokens.count == 2)
        for t in tokens { #expect(meter.enter(t, at: h.clock).result.isAccepted) }
        #expect(!meter.enter(tokens[0], at: h.clock).result.isAccepted)
    }

    @Test("advices: confirm once; a reversal by the station's rules; declined after a retry handed the tokens out; one that comes first bars the purchase",
          arguments: StoreKind.allCases)
    func advices(store: StoreKind) throws {
        let (h, client, _) = try Self.station(store)
        let render: (String, String?) -> [UInt8] = { state, why in Array("\(state) \(why ?? "")".utf8) }
        // Reversed: the sale is undone, its money refunded, the account as before.
        let a = UUID().uuidString.lowercased()
        _ = try h.station.posPurchase(Self.message(a, client), sale: try Self.sale(a), retry: false) { _ in [1] }
        let reversal = try h.station.posAdvice(Self.message("rev-\(a)", client), kind: .reversal, purchaseID: a, render: render)
        #expect(reversal.state == "reversed", "\(String(decoding: reversal.body, as: UTF8.self))")
        #expect(try h.station.account(meter: MeterPAN(meterNumber: Self.pan)).position.arrears == (try Money("10.00")), "the arrears are owed again")
        let repeated = try h.station.posAdvice(Self.message("rev-\(a)", client), kind: .reversal, purchaseID: a, render: render)
        #expect(repeated.replayed && repeated.body == reversal.body)
        #expect(throws: StationError.refused(.posPurchaseReversed(id: a))) {
            _ = try h.station.posPurchase(Self.message(a, client), sale: try Self.sale(a), retry: true) { _ in [] }
        }
        // Handed out by a retry: the reversal is declined, the sale stands.
        let b = UUID().uuidString.lowercased()
        _ = try h.station.posPurchase(Self.message(b, client), sale: try Self.sale(b), retry: false) { _ in [2] }
        _ = try h.station.posPurchase(Self.message(b, client), sale: try Self.sale(b), retry: true) { _ in [] }
        let declined = try h.station.posAdvice(Self.message("rev-\(b)", client), kind: .reversal, purchaseID: b, render: render)
        #expect(declined.state == "declined" && String(decoding: declined.body, as: UTF8.self).contains("handed out"))
        // Confirmed, then a reversal: declined.
        let c = UUID().uuidString.lowercased()
        _ = try h.station.posPurchase(Self.message(c, client), sale: try Self.sale(c), retry: false) { _ in [3] }
        #expect(try h.station.posAdvice(Self.message("conf-\(c)", client), kind: .confirmation, purchaseID: c, render: render).state == "confirmed")
        #expect(try h.station.posAdvice(Self.message("rev-\(c)", client), kind: .reversal, purchaseID: c, render: render).state == "declined")
        // A reversal ahead of its purchase: kept, and the purchase is never made.
        let d = UUID().uuidString.lowercased()
        #expect(try h.station.posAdvice(Self.message("rev-\(d)", client), kind: .reversal, purchaseID: d, render: render).state == "unmatched")
        #expect(throws: StationError.refused(.posPurchaseReversed(id: d))) {
            _ = try h.station.posPurchase(Self.message(d, client), sale: try Self.sale(d), retry: false) { _ in [] }
        }
        #expect(throws: StationError.notFound("purchase \(d)")) {
            _ = try h.station.posAdvice(Self.message("conf-\(d)", client), kind: .confirmation, purchaseID: d, render: render)
        }
        // Reprinted at the counter: handed out too, the reversal is declined.
        let e = UUID().uuidString.lowercased()
        let sold = try h.station.posPurchase(Self.message(e, client), sale: try Self.sale(e), retry: false) { s in Array("\(s.receipt.saleID)".utf8) }
        _ = try h.station.reprint(sale: Int64(String(decoding: sold.body, as: UTF8.self)), by: try h.user("olly"))
        #expect(try h.station.posAdvice(Self.message("rev-\(e)", client), kind: .reversal, purchaseID: e, render: render).state == "declined")
        // Another client's reversal neither touches nor bars this client's purchase.
        let other = POSClient(name: "bank", currency: "710", minimum: .zero, maximum: try Money("500.00"), reversals: true)
        _ = try h.station.addPOSClient(other, by: h.supervisor())
        let f = UUID().uuidString.lowercased()
        _ = try h.station.posPurchase(Self.message(f, client), sale: try Self.sale(f), retry: false) { _ in [4] }
        #expect(try h.station.posAdvice(Self.message("rev-\(f)", other), kind: .reversal, purchaseID: f, render: render).state == "unmatched")
        _ = try h.station.posPurchase(Self.message(f, client), sale: try Self.sale(f), retry: true) { _ in [] }
        // Settlement: b, c, e and f stand (c confirmed), a reversed.
        let settlement = try h.station.posSettlement(from: 0, to: h.clock + 1, by: .terminal)
        #expect(settlement.rows.count == 1)
        #expect(settlement.rows.first?.purchases == 4 && settlement.rows.first?.reversed == 1 && settlement.rows.first?.confirmed == 1)
    }

    @Test("nothing paid collects the free basic electricity due, with no channel fee; then nothing is due")
    func freeOnly() throws {
        let (h, client, _) = try Self.station(.sqlite)
        try h.station.setTariff(Tariff(name: "home", blocks: [TariffBlock(upToTenths: nil, price: EnergyPrice("2.00"))], freeBasicTenthsPerMonth: 50,
                                       vatBasisPoints: 0, channelFees: ["pos": try Money("1.50")]), by: h.supervisor())
        let id = UUID().uuidString.lowercased()
        let free = try h.station.posPurchase(Self.message(id, client), sale: try Self.sale(id, money: "0.00"), retry: false) { s in
            #expect(s.tokens.map(\.free) == [true] && s.tokens.map(\.tenths) == [50] && s.breakdown.deducted(.channelFee) == .zero)
            return [1]
        }
        #expect(!free.replayed)
        let again = UUID().uuidString.lowercased()
        #expect(throws: StationError.self) {
            _ = try h.station.posPurchase(Self.message(again, client), sale: try Self.sale(again, money: "0.00"), retry: false) { _ in [] }
        }
    }

    @Test("a blocked meter is refused everywhere until unblocked", arguments: StoreKind.allCases)
    func blocked(store: StoreKind) throws {
        let (h, client, _) = try Self.station(store)
        let pan = try MeterPAN(meterNumber: Self.pan)
        try h.station.blockMeter(pan, reason: "seal broken", by: h.supervisor())
        #expect(try h.station.posMeter(pan).blockedReason == "seal broken")
        let id = UUID().uuidString.lowercased()
        #expect(throws: StationError.refused(.meterBlocked(meter: Self.pan, reason: "seal broken"))) {
            _ = try h.station.posPurchase(Self.message(id, client), sale: try Self.sale(id), retry: false) { _ in [] }
        }
        #expect(throws: StationError.refused(.meterBlocked(meter: Self.pan, reason: "seal broken"))) {
            _ = try h.station.sell(SaleRequest(meter: pan, amount: .money(try Money("10.00")), requestID: "counter-1"), by: try h.user("olly"))
        }
        try h.station.unblockMeter(pan, by: h.supervisor())
        _ = try h.station.posPurchase(Self.message(id, client), sale: try Self.sale(id), retry: false) { _ in [1] }
    }
}
