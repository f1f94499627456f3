import Foundation
import GRDB
import STSAuditLog
import STSStation
import STSTariff
import STSTestFixtures
import STSTokenFormat
import STSVending
import Testing

/// An offline lane against a real PostgreSQL 15: meters held for it are sold from its local
/// store with no central database, no other station sells them meanwhile, its chain is taken
/// back exactly once, a forged one is refused, and after its return the meters sell centrally on.
@Suite struct OfflineLaneTests {
    let m1 = StationEndToEndTests().m1
    let m2 = StationEndToEndTests().m2

    func sale(_ pan: String, _ money: String, _ id: String) throws -> SaleRequest {
        SaleRequest(meter: try MeterPAN(meterNumber: pan), amount: .money(try Money(money)), requestID: id)
    }

    @Test func aLaneSellsOfflineUploadsOnceRefusesForgeriesAndReturns() throws {
        guard PostgresServer.shared != nil else { throw PostgresServerError.unavailable }
        let h = try StationEndToEndTests().setUp(.postgres)
        let olly = try h.user("olly")
        var meter1 = try StationHarness.meter(m1)
        let before = try h.station.sell(sale(m1, "50.00", "central-1"), by: olly)
        #expect(meter1.enter(before.tokens[0], at: h.clock).result.isAccepted)

        // The lane is a station of its own; a supervisor hands it meter 1 and 5 sale numbers.
        _ = try h.station.addStation(name: "lane", publicKeyOut: h.folder + "/lane.pub", by: h.supervisor())
        let laneCentral = try h.reopen(stationName: "lane")
        defer { laneCentral.close() }
        laneCentral.now = { [unowned h] in h.clock }
        h.clock += 30
        let sueAtLane = try laneCentral.authenticate(user: "sue", password: h.password, totp: TOTP(secret: h.supervisorSecret).code(atUnixSeconds: h.clock), action: "test")
        let localPath = h.folder + "/lane.db"
        let prepared = try laneCentral.prepareOfflineLane(localPath: localPath, meters: [m1], saleNumbers: 5, kekPath: h.kekFile, by: sueAtLane)
        #expect(prepared.meters == [m1] && prepared.saleNumbers == 5)
        #expect(FileManager.default.fileExists(atPath: localPath + ".kek"))
        // A second lane for the same station is refused, and no other station sells, credits or re-tenants meter 1 now.
        #expect(throws: StationError.self) { try laneCentral.prepareOfflineLane(localPath: h.folder + "/again.db", meters: [m2], saleNumbers: 5, kekPath: h.kekFile, by: sueAtLane) }
        #expect(throws: StationError.refused(.meterHeldOffline(meter: m1, station: "lane"))) { try h.station.sell(sale(m1, "10.00", "central-2"), by: olly) }
        #expect(throws: StationError.refused(.meterHeldOffline(meter: m1, station: "lane"))) { try h.station.changeTenant(meter: MeterPAN(meterNumber: m1), customer: "Mallory", by: olly) }
        // The lane's station records nothing centrally while its chain goes on in the lane.
        #expect(throws: StationError.refused(.stationOffline(station: "lane"))) { try laneCentral.sell(sale(m2, "10.00", "lane-central"), by: olly) }
        // Meter 2 is not held: it sells centrally as before.
        _ = try h.station.sell(sale(m2, "10.00", "central-m2"), by: olly)

        // Offline: the local store sells meter 1 with no central database at all.
        var offline: [SaleReceipt] = []
        do {
            let local = try Station.open(path: localPath)
            local.now = { [unowned h] in h.clock }
            let localOlly = try local.authenticate(user: "olly", password: h.password, action: "test")
            for n in 1...3 {
                h.clock += 120
                offline.append(try local.sell(sale(m1, "20.00", "lane-\(n)"), by: localOlly))
            }
            #expect(try local.sell(sale(m1, "20.00", "lane-2"), by: localOlly).replayed)
            #expect(throws: StationError.notFound("meter \(m2)")) { try local.sell(sale(m2, "10.00", "lane-m2"), by: localOlly) }
            #expect(throws: StationError.self) { try local.changeTenant(meter: MeterPAN(meterNumber: m1), customer: "Mallory", by: localOlly) }
        }
        for r in offline { #expect(meter1.enter(r.tokens[0], at: h.clock).result.isAccepted) }

        // A forged copy of the lane (one sale's amount edited in its log line) is refused, and nothing of it is stored.
        let forged = h.folder + "/forged.db"
        for suffix in ["", "-wal", "-shm", ".kek"] where FileManager.default.fileExists(atPath: localPath + suffix) {
            try FileManager.default.copyItem(atPath: localPath + suffix, toPath: forged + suffix)
        }
        do {
            let q = try DatabaseQueue(path: forged)
            try q.write { db in
                let seq = try Int64.fetchOne(db, sql: "SELECT log_seq FROM sales WHERE request_id = 'lane-2'") ?? 0
                let line = try Data.fetchOne(db, sql: "SELECT line FROM log WHERE seq = ?", arguments: [seq]) ?? Data()
                let edited = String(decoding: line, as: UTF8.self).replacingOccurrences(of: "\"20.00\"", with: "\"2.00\"")
                #expect(edited.utf8.count < line.count)
                try db.execute(sql: "UPDATE log SET line = ? WHERE seq = ?", arguments: [Data(edited.utf8), seq])
            }
        }
        let centralHead = try h.station.chainHead(ofStation: "lane").head
        do {
            let copy = try Station.open(path: forged)
            let copyOlly = try copy.authenticate(user: "olly", password: h.password, action: "test")
            #expect {
                try copy.uploadOfflineLane(to: laneCentral, returning: false, by: copyOlly)
            } throws: { e in
                guard case StationError.refused(.offlineChainRefused) = e else { return false }
                return true
            }
        }
        #expect(try h.station.chainHead(ofStation: "lane").head == centralHead)

        // The genuine lane is taken once; the same upload again is a no-op.
        let local = try Station.open(path: localPath)
        local.now = { [unowned h] in h.clock }
        let localOlly = try local.authenticate(user: "olly", password: h.password, action: "test")
        let first = try local.uploadOfflineLane(to: laneCentral, returning: false, by: localOlly)
        #expect(first.sales == 3 && first.entries > 3 && !first.returned)
        let again = try local.uploadOfflineLane(to: laneCentral, returning: false, by: localOlly)
        #expect(again.sales == 0 && again.entries == 0 && again.head == first.head)
        // Central retries of an offline sale replay it, proven against the lane's chain.
        let replay = try h.station.sell(sale(m1, "20.00", "lane-3"), by: olly)
        #expect(replay.replayed && replay.tokens == offline[2].tokens)

        // One more offline sale, then a supervisor returns the lane: the meter sells centrally again, above the lane's TIDs.
        h.clock += 120
        offline.append(try local.sell(sale(m1, "20.00", "lane-4"), by: localOlly))
        #expect(meter1.enter(offline[3].tokens[0], at: h.clock).result.isAccepted)
        #expect(throws: StationError.self) { try local.uploadOfflineLane(to: laneCentral, returning: true, by: localOlly) }
        h.clock += 30
        let localSue = try local.authenticate(user: "sue", password: h.password, totp: TOTP(secret: h.supervisorSecret).code(atUnixSeconds: h.clock), action: "test")
        let back = try local.uploadOfflineLane(to: laneCentral, returning: true, by: localSue)
        #expect(back.returned && back.sales == 1)
        #expect(try local.uploadOfflineLane(to: laneCentral, returning: false, by: localOlly).entries == 0)
        #expect(throws: StationError.refused(.offlineLaneClosed)) { try local.sell(sale(m1, "20.00", "lane-5"), by: localOlly) }
        h.clock += 120
        let after = try h.station.sell(sale(m1, "20.00", "central-3"), by: olly)
        #expect((after.tid ?? 0) > (offline[3].tid ?? .max))
        #expect(meter1.enter(after.tokens[0], at: h.clock).result.isAccepted)

        // Every chain verifies under its own key, and the union is clean: no TID twice, carried credit continuous.
        let dir = h.folder + "/audit"
        let ada = try h.user("ada")
        let exported = try h.station.exportAllLogs(to: dir, by: ada)
        #expect(exported.count == 2 && exported.allSatisfy { !$0.offline })
        var union = ChainUnion()
        for e in exported {
            let bytes = Array(FileManager.default.contents(atPath: "\(dir)/\(e.station).jsonl") ?? Data())
            let key = try StationPublicKeyFile.parse(String(contentsOfFile: "\(dir)/\(e.station).pub", encoding: .utf8))
            #expect(AuditVerifier(publicKey: key, sharedAccounts: true).verify(bytes).problems == [], "\(e.station)")
            union.add(station: e.station, log: bytes)
        }
        #expect(union.problems() == [])
        #expect(union.sales == 7)
    }
}
