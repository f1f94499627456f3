import Foundation
import STSAuditLog

extension Station {
    /// The whole log as ``exportLog(to:by:)`` writes it (same rules, same `export` entry and
    /// checkpoint), returned in memory: for a server that hands it to a browser or an API client.
    /// The file goes through an owner-only temporary folder that is removed afterwards.
    public func exportedLog(by actor: Actor) throws -> (bytes: [UInt8], entries: Int64, head: String) {
        let folder = NSTemporaryDirectory() + "stsvend-export-" + UUID().uuidString
        guard mkdir(folder, 0o700) == 0 else { throw StationError.store("cannot make a temporary folder for the export") }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/log.jsonl"
        let (entries, head) = try exportLog(to: path, by: actor)
        guard let data = FileManager.default.contents(atPath: path) else { throw StationError.store("the exported log could not be read back") }
        return (Array(data), entries, head)
    }

    /// Exports the log and verifies it at once, offline, against this station's public key and
    /// the head just published: what an auditor would find in the export (auditors and supervisors).
    public func verifyLogNow(by actor: Actor) throws -> AuditReport {
        let (bytes, _, head) = try exportedLog(by: actor)
        return AuditVerifier(publicKey: publicKey).verify(bytes, head: head)
    }
}
