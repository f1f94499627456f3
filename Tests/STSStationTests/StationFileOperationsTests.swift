import Foundation
import STSCrypto
import STSStation
import STSTariff
import STSTokenFormat
import Testing

/// The station operations that read or write files beside the database: sale CSVs and their
/// results, the report's CSV and JSON, campaign set files, second-factor secrets, a new KEK.
@Suite struct StationFileOperationsTests {
    let m1 = "600727000000000009"

    func setUp() throws -> StationHarness {
        let h = try StationHarness()
        try h.station.importKey(name: "k1", bytes: Array(try VendingKey.hexBytes(StationHarness.k1)), attributes: StationHarness.attributes(), by: h.supervisor())
        try h.station.importKey(name: "k2", bytes: Array(try VendingKey.hexBytes(StationHarness.k2)), attributes: StationHarness.attributes(krn: 2), by: h.supervisor())
        try h.station.setTariff(try Tariff(name: "flat", blocks: [TariffBlock(upToTenths: nil, price: EnergyPrice("1.50"))]), by: h.supervisor())
        try h.station.addMeter(MeterRegistration(pan: MeterPAN(meterNumber: m1), keyName: "k1", tariff: "flat", customer: "Alice"), by: h.user("olly"))
        return h
    }

    static func mode(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }

    @Test func saleCSVRowsAndRejections() throws {
        let text = "channel, units ,meter,money\n\n,,600727000000000009,10.00\nmobile,2.5,600727000000000009,\n,,600727000000000009,\n,,12345,1.00\n"
        let sheet = try SaleCSV(Data(text.utf8), name: "in.csv")
        // Blank lines are skipped and not counted: the rows are lines 2 and 3.
        #expect(sheet.rows.map(\.line) == [2, 3] && sheet.count == 4)
        #expect(sheet.rows[0].request.amount == .money(try Money("10.00")) && sheet.rows[0].request.channel == "counter")
        #expect(sheet.rows[1].request.amount == .units(25) && sheet.rows[1].request.channel == "mobile")
        #expect(sheet.rows[0].request.requestID.hasSuffix(":2") && sheet.rows[0].request.requestID.count == 14)
        #expect(sheet.rejected.map(\.line) == [4, 5] && sheet.rejected[0].error == "no money or units")
        #expect(throws: StationError.invalid(.csv, "in.csv is empty")) { try SaleCSV(Data("\n\n".utf8), name: "in.csv") }
        #expect(throws: StationError.invalid(.csv, "the header needs a meter column")) { try SaleCSV(Data("pan,money\n".utf8), name: "x") }
        #expect(throws: StationError.invalid(.csv, "cannot read /nonexistent/in.csv")) { try SaleCSV(contentsOf: "/nonexistent/in.csv") }
    }

    @Test func sellCSVWritesResultsOnceAndReplays() throws {
        let h = try setUp()
        let olly = try h.user("olly")
        let sheet = try SaleCSV(Data("meter,money\n\(m1),10.00\n\(m1),abc\n000001000000000082,5.00\n\(m1),3.00\n".utf8), name: "in.csv")
        let out = h.folder + "/out.csv"
        var calls: [(Int, Int)] = []
        let first = try h.station.sellCSV(sheet, resultPath: out, groupSize: 2, by: olly) { done, total, _ in calls.append((done, total)) }
        #expect(first == SaleCSVSummary(rows: 4, sold: 2, replayed: 0, refused: 2))
        #expect(calls.map(\.0) == [2, 3] && calls.allSatisfy { $0.1 == 3 })
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "line,request_id,meter,status,sale,token,tid,units,error" && lines.count == 5)
        #expect(lines[1].hasPrefix("3,,,refused,") && lines[2].contains(",sold,1,") && lines[3].contains(",refused,") && lines[4].contains(",sold,2,"))
        #expect(Self.mode(out) == 0o600 && !FileManager.default.fileExists(atPath: out + ".partial"))
        let again = try h.station.sellCSV(sheet, resultPath: h.folder + "/again.csv", by: olly)
        #expect(again == SaleCSVSummary(rows: 4, sold: 0, replayed: 2, refused: 2))
        // No results file, nothing sold.
        #expect(throws: StationError.self) { try h.station.sellCSV(sheet, resultPath: h.folder + "/no/such/out.csv", by: olly) }
    }

    @Test("a batch id keeps the rows' ids when the file is corrected in place: only the corrected row sells")
    func correctedBatch() throws {
        let h = try setUp()
        let olly = try h.user("olly")
        let first = try SaleCSV(Data("meter,money\n\(m1),10.00\n\(m1),abc\n\(m1),3.00\n".utf8), name: "in.csv", batchID: "day-1")
        #expect(first.rows.map(\.request.requestID) == ["day-1:2", "day-1:4"])
        #expect(try h.station.sellCSV(first, resultPath: h.folder + "/1.csv", by: olly) == SaleCSVSummary(rows: 3, sold: 2, replayed: 0, refused: 1))
        let corrected = try SaleCSV(Data("meter,money\n\(m1),10.00\n\(m1),2.00\n\(m1),3.00\n".utf8), name: "in.csv", batchID: "day-1")
        #expect(try h.station.sellCSV(corrected, resultPath: h.folder + "/2.csv", by: olly) == SaleCSVSummary(rows: 3, sold: 1, replayed: 2, refused: 0))
        #expect(throws: StationError.self) { try SaleCSV(Data("meter,money\n".utf8), name: "x", batchID: "has space") }
    }

    @Test func reportAsTextCSVAndJSON() throws {
        let h = try setUp()
        _ = try h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: m1), amount: .money(Money("15.00")), requestID: "r1", channel: "=cmd"), by: h.user("olly"))
        let r = try h.station.report(from: 0, to: h.clock + 86_400)
        let csv = r.csv().split(separator: "\n")
        #expect(csv.first?.hasPrefix("section,day,operator,channel,sales,money") == true)
        #expect(csv.contains { $0.hasPrefix("takings,") && $0.contains(",olly,'=cmd,1,15.00,") })
        #expect(csv.contains { $0.hasPrefix("blocks,") && $0.hasSuffix(",1,15000,10.0,,,,,,") })
        let json = try JSONSerialization.jsonObject(with: Data(r.json())) as? [String: Any]
        #expect((json?["takings"] as? [[String: Any]])?.first?["channel"] as? String == "=cmd")
        #expect(r.text().hasPrefix("takings: day | operator | channel | sales | money | channel_fees | vat | energy\n"))
    }

    @Test func campaignSetsFile() throws {
        let h = try setUp()
        try h.station.startCampaign(name: "c", from: "k1", to: "k2", by: h.supervisor())
        let sets = h.folder + "/sets.jsonl"
        let p = try h.station.runCampaign(name: "c", by: h.supervisor(), setsFile: sets)
        #expect(p.issued == 1)
        let line = try String(contentsOfFile: sets, encoding: .utf8)
        #expect(line.hasPrefix(#"{"pan":"600727000000000009","sale":1,"tokens":[""#) && line.hasSuffix("]}\n") && Self.mode(sets) == 0o600)
        #expect(throws: StationError.self) { try h.station.runCampaign(name: "c", by: h.supervisor(), setsFile: h.folder + "/no/such/sets.jsonl") }
    }

    @Test func secondFactorSecretFiles() throws {
        let folder = NSTemporaryDirectory() + "station-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let password = Array("correct horse battery".utf8)
        // A failed creation leaves no file at all, the secret's file included.
        #expect(throws: StationError.self) {
            try Station.create(path: folder + "/s.db", admin: "sue", password: Array("short".utf8), passwordCost: 10, totpSecretOut: folder + "/sue.totp")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        let station = try Station.create(path: folder + "/s.db", admin: "sue", password: password, now: 1_795_000_000, passwordCost: 10,
                                         totpSecretOut: folder + "/sue.totp")
        let secret = Base32.decode(try String(contentsOfFile: folder + "/sue.totp", encoding: .utf8).trimmingCharacters(in: .newlines)) ?? []
        #expect(secret.count == 20 && Self.mode(folder + "/sue.totp") == 0o600)
        let now: Int64 = 1_795_000_030
        station.now = { now }
        let sue = try station.authenticate(user: "sue", password: password, totp: TOTP(secret: secret).code(atUnixSeconds: now), action: "test")
        try station.addUser(name: "olly", role: .operator, password: password, by: sue, passwordCost: 10, totpSecretOut: folder + "/olly.totp")
        #expect(Self.mode(folder + "/olly.totp") == 0o600)
        // An existing file is never overwritten, and then no user is added.
        #expect(throws: StationError.self) {
            try station.addUser(name: "ada", role: .auditor, password: password, by: sue, passwordCost: 10, totpSecretOut: folder + "/olly.totp")
        }
        #expect(throws: StationError.authenticationFailed) { try station.authenticate(user: "ada", password: password, action: "test") }
    }

    @Test func newKEKFileIsRemovedWhenTheRotationFails() throws {
        let h = try StationHarness()
        let kek = h.folder + "/new.kek"
        #expect(throws: StationError.secondFactorRequired(action: "rotate the key-encryption key")) {
            try h.station.rotateKeyEncryptionKey(creatingIfMissing: kek, by: h.user("sue"))
        }
        #expect(!FileManager.default.fileExists(atPath: kek))
        let r = try h.station.rotateKeyEncryptionKey(creatingIfMissing: kek, by: h.supervisor())
        #expect(r.created && r.secrets > 0 && Self.mode(kek) == 0o600)
    }
}
