import Dispatch
import Foundation
import STSAuditLog
import STSCrypto
import STSMeter
import STSStation
import STSTariff
import STSTokenFormat
import Testing

/// The station's whole day, in process: keys, tariffs, meters, sales, reprint, reversal, tenant
/// change, engineering, a key-change campaign, export and an offline verification; every token
/// goes into a meter decoder, which must accept it.
@Suite struct StationEndToEndTests {
    let m1 = "600727000000000009"
    let m2 = "000001000000000082"

    func setUp(_ store: StoreKind = .sqlite) throws -> StationHarness {
        let h = try StationHarness(store: store)
        try h.station.importKey(name: "k1", bytes: Array(try VendingKey.hexBytes(StationHarness.k1)), attributes: StationHarness.attributes(), by: h.supervisor())
        try h.station.importKey(name: "k2", bytes: Array(try VendingKey.hexBytes(StationHarness.k2)), attributes: StationHarness.attributes(krn: 2), by: h.supervisor())
        let home = try Tariff(name: "home", blocks: [TariffBlock(upToTenths: 500, price: EnergyPrice("1.20")), TariffBlock(upToTenths: nil, price: EnergyPrice("1.80"))],
                              freeBasicTenthsPerMonth: 100, vatBasisPoints: 1500)
        try h.station.setTariff(home, by: h.supervisor())
        let olly = try h.user("olly")
        try h.station.addMeter(MeterRegistration(pan: MeterPAN(meterNumber: m1), keyName: "k1", tariff: "home", customer: "Alice", arrears: Money("20.00")), by: olly)
        try h.station.addMeter(MeterRegistration(pan: MeterPAN(meterNumber: m2), keyName: "k1", tariff: "home", customer: "Carol"), by: olly)
        return h
    }

    @Test(arguments: StoreKind.allCases) func aDayAtTheStation(store: StoreKind) throws {
        let h = try setUp(store)
        let olly = try h.user("olly")
        var meter1 = try StationHarness.meter(m1)
        var meter2 = try StationHarness.meter(m2)

        // Sell: arrears first, then free units and blocks (hand-checked in SalePricingTests).
        let sale = try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: m1), amount: .money(Money("100.00")), requestID: "r1"), by: olly)
        #expect(sale.unitsTenths == 653 && sale.tokens.count == 1 && !sale.replayed)
        let outcome = meter1.enter(sale.tokens[0], at: h.clock)
        #expect(outcome.result.isAccepted)
        #expect(meter1.state.registers[.electricity] == 653)
        #expect(try h.station.account(meter: MeterPAN(meterNumber: m1)).position.arrears == .zero)

        // A retry returns the same token; the same id for another request is refused.
        let retry = try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: m1), amount: .money(Money("100.00")), requestID: "r1"), by: olly)
        #expect(retry.tokens == sale.tokens && retry.replayed && retry.json == sale.json)
        #expect(throws: StationError.requestIDReused("r1")) {
            try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: m1), amount: .money(Money("50.00")), requestID: "r1"), by: olly)
        }
        // Reprint: the same token from the record.
        #expect(try h.station.reprint(sale: sale.saleID, by: olly).tokens == sale.tokens)

        // A second sale, reversed by a supervisor (not by an operator); the account is as before.
        let before = try h.station.account(meter: MeterPAN(meterNumber: m1)).position
        h.clock += 60
        let second = try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: m1), amount: .units(125), requestID: "r2"), by: olly)
        #expect(second.unitsTenths == 125)
        #expect(throws: StationError.self) { try h.station.reverse(sale: second.saleID, reason: "x", by: olly) }
        #expect(try h.station.reverse(sale: second.saleID, reason: "customer left before entering it", by: h.supervisor()) == (try Money("25.85")))
        #expect(try h.station.account(meter: MeterPAN(meterNumber: m1)).position == before)
        #expect(throws: StationError.self) { try h.station.reverse(sale: second.saleID, reason: "again", by: h.supervisor()) }

        // Tenant change: Alice's account closes, Bob's opens on the same meter.
        try h.station.changeTenant(meter: MeterPAN(meterNumber: m1), customer: "Bob", by: olly)
        #expect(try h.station.account(meter: MeterPAN(meterNumber: m1)).customer == "Bob")
        h.clock += 60
        let bob = try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: m1), amount: .money(Money("30.00")), requestID: "r3"), by: olly)
        #expect(meter1.enter(bob.tokens[0], at: h.clock).result.isAccepted)

        // Engineering: clear tamper, by a supervisor.
        let eng = try h.station.engineering(.clearTamper, meter: MeterPAN(meterNumber: m2), by: h.supervisor())
        #expect(meter2.enter(eng.tokens[0], at: h.clock).result.isAccepted)
        #expect(try h.station.reprint(sale: eng.saleID, by: olly).tokens == eng.tokens)

        // Campaign: both meters from k1 (KRN 1) to k2 (KRN 2), interrupted after one meter.
        #expect(throws: StationError.secondFactorRequired(action: "start key-change campaigns")) {
            try h.station.startCampaign(name: "krn2", from: "k1", to: "k2", by: h.user("sue"))
        }
        #expect(try h.station.startCampaign(name: "krn2", from: "k1", to: "k2", by: h.supervisor()).pending == 2)
        let sue = try h.user("sue")
        var sets: [String: SaleReceipt] = [:]
        var progress = try h.station.runCampaign(name: "krn2", by: sue, limit: 1) { pan, r, _ in sets[pan] = r }
        #expect(progress.pending == 1 && progress.issued == 1)
        progress = try h.station.runCampaign(name: "krn2", by: sue) { pan, r, _ in sets[pan] = r }
        #expect(progress.pending == 0 && progress.issued == 2)
        for pan in [m1, m2] {
            var meter = pan == m1 ? meter1 : meter2
            for t in sets[pan]!.tokens { _ = meter.enter(t, at: h.clock) }
            #expect(meter.state.key.revision == 2, "meter \(pan) took the new key")
            try h.station.confirmCampaign(name: "krn2", meter: pan, by: olly)
            h.clock += 60
            let after = try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: pan), amount: .money(Money("10.00")), requestID: "after-\(pan)"), by: olly)
            #expect(meter.enter(after.tokens[0], at: h.clock).result.isAccepted, "sale under the new key on \(pan)")
            if pan == m1 { meter1 = meter } else { meter2 = meter }
        }
        #expect(try h.station.campaignProgress(name: "krn2").confirmed == 2)

        // The report: reversed sales left out; four credit sales took 150.00, 20.00 of it arrears.
        let day = try h.station.report(from: 0, to: h.clock + 86_400)
        #expect(day.takings.reduce(0) { $0 + $1.values[0] } == 15_000)
        #expect(day.recovered.reduce(0) { $0 + $1.values[0] } == 2_000)
        #expect(day.tokens.map(\.group[0]) == ["credit", "engineering", "key_change"])
        #expect(day.tokens.map(\.count) == [4, 1, 2] && day.tokens.map { $0.values[0] } == [4, 1, 4])
        // Free basic electricity once a month per account: Alice, Bob and Carol, 10 kWh each.
        #expect(day.blocks.first?.group == ["0", "0"] && day.blocks.first?.values[0] == 300)

        // Roles: operators cannot export, auditors cannot sell; a bad password is logged.
        #expect(throws: StationError.self) { try h.station.exportLog(to: h.folder + "/x.jsonl", by: olly) }
        #expect(throws: StationError.self) {
            try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: m1), amount: .money(Money("1.00")), requestID: "r9"), by: h.user("ada"))
        }
        #expect(throws: StationError.authenticationFailed) { try h.station.authenticate(user: "olly", password: Array("wrong".utf8), action: "sell") }
        // A TOTP code is accepted once.
        let code = TOTP(secret: h.supervisorSecret).code(atUnixSeconds: h.clock + 30)
        h.clock += 30
        _ = try h.station.authenticate(user: "sue", password: h.password, totp: code, action: "x")
        #expect(throws: StationError.authenticationFailed) { try h.station.authenticate(user: "sue", password: h.password, totp: code, action: "x") }

        // Export and verify offline, decrypting every token with the keys.
        let path = h.folder + "/log.jsonl"
        let (entries, head) = try h.station.exportLog(to: path, by: h.user("ada"))
        let bytes = Array(FileManager.default.contents(atPath: path)!)
        let report = AuditVerifier(publicKey: h.station.publicKey, keys: ["k1": try VendingKey(hex: StationHarness.k1), "k2": try VendingKey(hex: StationHarness.k2)]).verify(bytes)
        #expect(report.problems == [])
        #expect(report.isClean && Int64(report.entries) == entries && report.head == head)
        #expect(report.sales == 5 && report.reversals == 1)
        #expect(report.tokens == report.tokensDecrypted && report.tokens == 5 + 1 + 4)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"type\":\"login_failure\""))
        #expect(!text.contains(StationHarness.k1) && !text.lowercased().contains(StationHarness.k1.lowercased()))
    }

    @Test(arguments: StoreKind.allCases) func reversingTheLatestSalesOneAfterAnother(store: StoreKind) throws {
        let h = try setUp(store)
        let olly = try h.user("olly")
        let pan = try MeterPAN(meterNumber: m2)
        let start = try h.station.account(meter: pan).position
        var ids: [Int64] = []
        for n in 0..<3 {
            h.clock += 60
            ids.append(try h.station.sell(SaleRequest(meter: pan, amount: .money(Money("17.77")), requestID: "q\(n)"), by: olly).saleID)
        }
        #expect(throws: StationError.self) { try h.station.reverse(sale: ids[1], reason: "not the latest", by: h.supervisor()) }
        _ = try h.station.reverse(sale: ids[2], reason: "unused", by: h.supervisor())
        _ = try h.station.reverse(sale: ids[1], reason: "unused", by: h.supervisor())
        h.clock += 60
        _ = try h.station.sell(SaleRequest(meter: pan, amount: .money(Money("5.00")), requestID: "q9"), by: olly)
        _ = try h.station.reverse(sale: ids[0] + 3, reason: "unused", by: h.supervisor())
        _ = try h.station.reverse(sale: ids[0], reason: "unused", by: h.supervisor())
        #expect(try h.station.account(meter: pan).position == start)
        let path = h.folder + "/log.jsonl"
        _ = try h.station.exportLog(to: path, by: h.user("ada"))
        #expect(AuditVerifier(publicKey: h.station.publicKey).verify(Array(FileManager.default.contents(atPath: path)!)).problems == [])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
        #expect(mode == 0o600)
    }

    @Test(arguments: StoreKind.allCases) func concurrentSalesFromTwoProcessesNeverShareATID(store: StoreKind) throws {
        let h = try setUp(store)
        let other = try h.reopen()
        let clock = h.clock
        other.now = { clock }
        let actorA = try h.user("olly"), actorB = try other.authenticate(user: "olly", password: h.password, action: "t")
        let stations = [h.station, other], actors = [actorA, actorB]
        let results = Locked<[SaleReceipt]>([])
        let m2 = self.m2
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            for n in 0..<40 {
                let r = try! stations[i].sell(SaleRequest(meter: MeterPAN(meterNumber: m2), amount: .money(Money("5.00")), requestID: "p\(i)-\(n)"), by: actors[i])
                results.withLock { $0.append(r) }
            }
        }
        let tids = results.withLock { $0.compactMap(\.tid) }
        #expect(tids.count == 80 && Set(tids).count == 80)
        var meter = try StationHarness.meter(m2)
        for r in results.withLock({ $0 }).sorted(by: { $0.tid! < $1.tid! }) {
            #expect(meter.enter(r.tokens[0], at: h.clock).result.isAccepted)
        }
        let path = h.folder + "/log.jsonl"
        _ = try h.station.exportLog(to: path, by: h.user("ada"))
        #expect(AuditVerifier(publicKey: h.station.publicKey).verify(Array(FileManager.default.contents(atPath: path)!)).problems == [])
    }
}

final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

extension VendingKey {
    static func hexBytes(_ hex: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16)!) }
        return out
    }
}
