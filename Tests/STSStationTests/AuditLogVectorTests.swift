import Crypto
import Foundation
import STSAuditLog
import STSBatch
import STSTokenFormat
import Testing

/// `Fixtures/audit-log/`: five log lines and a public key made outside this code (Python's
/// hashlib and Ed25519 with the seed 00 01 … 1f, following Specs/audit-log.md).
@Suite struct AuditLogVectorTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fixtures/audit-log")
    static let log = Array(try! Data(contentsOf: folder.appendingPathComponent("example.jsonl")))
    static let lines = log.split(separator: 10).map(Array.init)

    @Test func theIndependentExampleVerifies() throws {
        let key = try StationPublicKeyFile.parse(String(contentsOf: Self.folder.appendingPathComponent("example.pub"), encoding: .utf8))
        let report = AuditVerifier(publicKey: key).verify(Self.log)
        #expect(report.problems == [])
        #expect(report.entries == 5 && report.checkpoints == 2)
        #expect(report.head.hasPrefix("2aea31e4") && report.head.hasSuffix("b347366"))
    }

    /// Our writer, given each line's fields, produces the same bytes, and with the seed key the
    /// same checkpoint signatures (Ed25519 is deterministic).
    @Test func ourWriterReproducesEveryLine() throws {
        let signer = try Curve25519.Signing.PrivateKey(rawRepresentation: Array(0..<32) as [UInt8])
        var prev = AuditEntryLine.genesis
        var stationID = ""
        for line in Self.lines {
            let o = try JSON.parse(String(decoding: line, as: UTF8.self))
            let text = String(decoding: line, as: UTF8.self)
            let dataStart = text.range(of: #","data":"#)!.upperBound, dataEnd = text.range(of: #","prev":""#, options: .backwards)!.lowerBound
            var data = Array(text[dataStart..<dataEnd].utf8)
            if o["type"]?.string == "station" { stationID = o["data"]!["station_id"]!.string! }
            if o["type"]?.string == "checkpoint" {
                data = try Checkpoint.data(stationID: stationID, through: o["data"]!["through"]!.integer!, head: prev, signingKey: signer)
            }
            let rebuilt = AuditEntryLine(seq: o["seq"]!.integer!, unixSeconds: try CivilTime.parseISO8601(o["time"]!.string!),
                                         type: o["type"]!.string!, actor: o["actor"]!.string!, data: data, prev: prev)
            #expect(rebuilt.bytes == line, "seq \(o["seq"]!.integer!)")
            prev = rebuilt.hash
        }
    }
}
