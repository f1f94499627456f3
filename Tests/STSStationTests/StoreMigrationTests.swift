import Foundation
import STSAuditLog
import STSStation
import STSTariff
import STSTestFixtures
import STSTokenFormat
import STSVending
import Testing

/// `station migrate`: an SQLite station moved into PostgreSQL keeps its keys sealed, its chain
/// byte for byte, and sells on from where it was (its meters' TIDs keep rising).
@Suite struct StoreMigrationTests {
    @Test func anSQLiteStationMovesToPostgreSQLAndSellsOn() throws {
        guard let server = PostgresServer.shared else { throw PostgresServerError.unavailable }
        let h = try StationEndToEndTests().setUp(.sqlite)
        let olly = try h.user("olly")
        let pan = try MeterPAN(meterNumber: StationEndToEndTests().m1)
        var receipts: [SaleReceipt] = []
        for n in 0..<5 {
            h.clock += 60
            receipts.append(try h.station.sell(SaleRequest(meter: pan, amount: .money(Money("25.00")), requestID: "before-\(n)"), by: olly))
        }
        let before = h.folder + "/before.jsonl"
        _ = try h.station.exportLog(to: before, by: h.user("ada"))
        let url = try server.newDatabase("moved")
        let summary = try Station.migrateStore(from: h.database, kekPath: h.kekFile, to: url, passwordFile: server.passwordFile)
        #expect(summary.stationID == h.station.stationID)
        #expect(summary.rows.first { $0.table == "sales" }?.count == 5)
        // A second move into the same database is refused: it already holds a station.
        #expect(throws: StationError.self) { try Station.migrateStore(from: h.database, kekPath: h.kekFile, to: url, passwordFile: server.passwordFile) }

        let moved = try Station.open(path: url, kekPath: h.kekFile, passwordFile: server.passwordFile)
        defer { moved.close() }
        #expect(moved.stationID == h.station.stationID && moved.publicKey.rawRepresentation == h.station.publicKey.rawRepresentation)
        let clock = h.clock + 60
        moved.now = { clock }
        let movedOlly = try moved.authenticate(user: "olly", password: h.password, action: "test")
        // The same request id replays the moved receipt (proven against the moved chain), never a new token.
        let replay = try moved.sell(SaleRequest(meter: pan, amount: .money(Money("25.00")), requestID: "before-4"), by: movedOlly)
        #expect(replay.replayed && replay.tokens == receipts[4].tokens)
        let next = try moved.sell(SaleRequest(meter: pan, amount: .money(Money("25.00")), requestID: "after-0"), by: movedOlly)
        #expect((next.tid ?? 0) > (receipts[4].tid ?? .max))
        var meter = try StationHarness.meter(StationEndToEndTests().m1)
        for r in receipts + [next] { #expect(meter.enter(r.tokens[0], at: clock).result.isAccepted) }

        let after = h.folder + "/after.jsonl"
        _ = try moved.exportLog(to: after, by: moved.authenticate(user: "ada", password: h.password, action: "test"))
        let bytesBefore = Array(FileManager.default.contents(atPath: before) ?? Data())
        let bytesAfter = Array(FileManager.default.contents(atPath: after) ?? Data())
        // The moved chain starts with every line exported before the move, unchanged, and verifies under the same key.
        #expect(bytesAfter.count > bytesBefore.count && Array(bytesAfter.prefix(bytesBefore.count)) == bytesBefore)
        #expect(AuditVerifier(publicKey: h.station.publicKey).verify(bytesAfter).problems == [])
    }
}
