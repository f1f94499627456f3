import Crypto
import Foundation
import STSAuditLog
import STSBatch
import STSCrypto
import STSStation
import STSTariff
import STSTokenFormat
import Testing

/// A real exported log, tampered with in every way; each change must be caught at the entry
/// where it was made.
@Suite struct AuditTamperTests {
    static let exported: (lines: [[UInt8]], key: Curve25519.Signing.PublicKey) = {
        let h = try! StationHarness()
        try! h.station.importKey(name: "k1", bytes: try! VendingKey.hexBytes(StationHarness.k1), attributes: StationHarness.attributes(), by: h.supervisor())
        try! h.station.setTariff(Tariff.flat(name: "flat", price: EnergyPrice("1.50")), by: h.supervisor())
        let olly = try! h.user("olly")
        try! h.station.addMeter(MeterRegistration(pan: MeterPAN(meterNumber: "600727000000000009"), keyName: "k1", tariff: "flat", customer: "Alice"), by: olly)
        h.station.checkpointEvery = 5
        for n in 0..<12 {
            h.clock += 60
            _ = try! h.station.sell(SaleRequest(meter: MeterPAN(meterNumber: "600727000000000009"), amount: .money(Money("10.00")), requestID: "t\(n)"), by: olly)
        }
        let path = h.folder + "/log.jsonl"
        _ = try! h.station.exportLog(to: path, by: h.user("ada"))
        let bytes = Array(FileManager.default.contents(atPath: path)!)
        return (bytes.split(separator: 10, omittingEmptySubsequences: false).dropLast().map(Array.init), h.station.publicKey)
    }()

    func verify(_ lines: [[UInt8]], key: Curve25519.Signing.PublicKey = exported.key) -> AuditReport {
        AuditVerifier(publicKey: key).verify(Array(lines.joined(separator: [10])) + [10])
    }

    func firstSaleLine() -> Int { Self.exported.lines.firstIndex { String(decoding: $0, as: UTF8.self).contains(#""type":"sale""#) }! }

    @Test func theUntouchedLogIsClean() {
        let r = verify(Self.exported.lines)
        #expect(r.problems == [])
        #expect(r.sales == 12 && r.checkpoints >= 4)
    }

    @Test func aFlippedByteIsCaughtAtItsEntry() {
        var lines = Self.exported.lines
        let i = firstSaleLine()
        let at = String(decoding: lines[i], as: UTF8.self).range(of: #""money":"10.00""#)!.lowerBound.utf16Offset(in: String(decoding: lines[i], as: UTF8.self)) + 10
        lines[i][at] = UInt8(ascii: "9")
        let r = verify(lines)
        #expect(r.problems.first?.line == i + 1 && r.problems.first?.code == "hash")
    }

    @Test func aDeletedEntryIsCaughtWhereItWas() {
        var lines = Self.exported.lines
        let i = firstSaleLine()
        lines.remove(at: i)
        let r = verify(lines)
        #expect(r.problems.first?.line == i + 1)
        #expect(r.problems.contains { $0.line == i + 1 && $0.code == "sequence" })
        #expect(r.problems.contains { $0.line == i + 1 && $0.code == "chain" })
    }

    @Test func reorderedEntriesAreCaught() {
        var lines = Self.exported.lines
        let i = firstSaleLine()
        lines.swapAt(i, i + 1)
        let r = verify(lines)
        #expect(r.problems.first?.line == i + 1)
        #expect(r.problems.contains { $0.line == i + 1 && $0.code == "chain" })
    }

    @Test func aDuplicatedEntryIsCaught() {
        var lines = Self.exported.lines
        let i = firstSaleLine()
        lines.insert(lines[i], at: i + 1)
        let r = verify(lines)
        #expect(r.problems.first?.line == i + 2)
        #expect(r.problems.contains { $0.line == i + 2 && $0.code == "sequence" })
        #expect(r.problems.contains { $0.code == "duplicate-tid" && $0.line == i + 2 })
    }

    @Test func truncationIsCaught() {
        // Cut inside the last line.
        var torn = Self.exported.lines
        torn[torn.count - 1] = Array(torn[torn.count - 1].prefix(40))
        #expect(verify(torn).problems.contains { $0.line == torn.count && $0.code == "format" })
        // Cut before the export seal: the remaining tail is not sealed, or ends without an export.
        for cut in 1...4 {
            let short = Array(Self.exported.lines.dropLast(cut))
            let r = verify(short)
            #expect(r.problems.contains { $0.code == "unsealed" }, "cut \(cut)")
        }
    }

    /// An insider with the database but not the station key rewrites a sale's customer, recomputes every
    /// hash and re-signs the checkpoints with a key of their own: the first checkpoint after the
    /// change fails, and a log that names the forger's key fails at its first line.
    @Test func reSigningWithAnotherKeyIsCaught() throws {
        let forger = Curve25519.Signing.PrivateKey()
        let target = firstSaleLine()
        func rewrite(replaceStationKey: Bool) throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            var prev = AuditEntryLine.genesis
            var stationID = ""
            for (n, line) in Self.exported.lines.enumerated() {
                let o = try JSON.parse(String(decoding: line, as: UTF8.self))
                var data = Array(String(decoding: line, as: UTF8.self).slice(from: #","data":"#, to: #","prev":""#).utf8)
                let type = o["type"]!.string!
                if type == "station" {
                    stationID = o["data"]!["station_id"]!.string!
                    if replaceStationKey {
                        data = Array(#"{"station_id":"\#(stationID)","name":"station","public_key":"\#(forger.publicKey.rawRepresentation.base64EncodedString())"}"#.utf8)
                    }
                }
                if n == target { data = Array(String(decoding: data, as: UTF8.self).replacingOccurrences(of: #""customer":"Alice""#, with: #""customer":"Mallory""#).utf8) }
                if type == Checkpoint.type {
                    data = try Checkpoint.data(stationID: stationID, through: Int64(n), head: prev, signingKey: forger)
                }
                let e = AuditEntryLine(seq: Int64(n + 1), unixSeconds: try CivilTime.parseISO8601(o["time"]!.string!), type: type,
                                       actor: o["actor"]!.string!, data: data, prev: prev)
                out.append(e.bytes)
                prev = e.hash
            }
            return out
        }
        let reSigned = try rewrite(replaceStationKey: false)
        let r = verify(reSigned)
        let firstCheckpoint = reSigned.firstIndex { String(decoding: $0, as: UTF8.self).contains(#""type":"checkpoint""#) }! + 1
        // In line order: the tail from line 1 is unsealed (no checkpoint verifies), and the first
        // line-level problem is the signature of the first checkpoint.
        #expect(r.problems.first?.line == 1 && r.problems.first?.code == "unsealed", "\(r.problems)")
        let lineProblems = r.problems.filter { $0.code != "unsealed" }
        #expect(lineProblems.first?.line == firstCheckpoint && lineProblems.first?.code == "signature", "\(r.problems)")
        #expect(!r.problems.contains { $0.code == "hash" || $0.code == "chain" })
        let renamed = verify(try rewrite(replaceStationKey: true))
        #expect(renamed.problems.first?.line == 1 && renamed.problems.first?.code == "station-key")
        // With the forger's key, the self-consistent forgery verifies: so the auditor must get the
        // public key from the station, not from the log.
        #expect(verify(try rewrite(replaceStationKey: true), key: forger.publicKey).problems.filter { $0.code == "signature" } == [])
    }
}

extension String {
    func slice(from: String, to: String) -> String {
        let a = range(of: from)!.upperBound
        let b = range(of: to, options: .backwards)!.lowerBound
        return String(self[a..<b])
    }
}
