import Crypto
import Foundation
import GRDB
import STSAuditLog
import STSBatch

extension StoreTransaction {
    /// The receipt of a sale row, proven against the log before it is shown again (reprints,
    /// retried requests): the row's receipt must be byte for byte the `data` of its log entry,
    /// that entry must hash to its stated hash, the next entry must chain to it, and when a
    /// checkpoint follows, the chain must reach it and its signature must verify. So a row
    /// edited in the database, or an entry edited with it, is refused instead of reprinted.
    /// Entries after the last checkpoint are checked for hash and chain only (Specs/station.md).
    func provenReceipt(_ r: Row) throws -> SaleReceipt {
        let receipt = receipt(r)
        let id: Int64 = r["id"]
        func tampered(_ why: String) -> StationError {
            .tampered("sale \(id): \(why); the database was changed outside the station. Export and verify the log (stsvend audit export, audit verify) before selling on")
        }
        let seq: Int64
        if let s = r["log_seq"] as Int64? {
            seq = s
        } else if let s = try legacyLogSeq(saleID: id) {
            seq = s
        } else {
            throw tampered("its log entry is missing")
        }
        guard let entry = try logLine(seq) else { throw tampered("its log entry \(seq) is missing") }
        let entryHash = try checkedLine(entry, seq: seq, tampered)
        guard let data = Self.dataBytes(entry), data == receipt.json else {
            throw tampered("the stored receipt differs from its signed log entry (seq \(seq))")
        }
        // Forward along the chain to the next checkpoint (at most a checkpoint interval away).
        var previous = entryHash
        var next = seq + 1
        while let line = try logLine(next) {
            guard let header = line.withUnsafeBufferPointer({ AuditEntryLine.header($0) }), header.prev == previous else {
                throw tampered("log entry \(next) does not chain to entry \(next - 1)")
            }
            let hash = try checkedLine(line, seq: next, tampered)
            if Self.isCheckpoint(line) {
                guard try checkpointVerifies(line, through: next - 1, head: previous) else {
                    throw tampered("the checkpoint at log entry \(next) does not verify")
                }
                break
            }
            previous = hash
            next += 1
        }
        return receipt
    }

    /// A stored line's bytes.
    func logLine(_ seq: Int64) throws -> [UInt8]? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT line FROM log WHERE seq = ?"), arguments: [seq]).map { Array($0) }
    }

    /// Checks a line's layout, seq and hash; returns its hash.
    private func checkedLine(_ line: [UInt8], seq: Int64, _ tampered: (String) -> StationError) throws -> LogDigest {
        try line.withUnsafeBufferPointer { b in
            guard let header = AuditEntryLine.header(b), header.seq == seq else { throw tampered("log entry \(seq) is not an entry line") }
            guard AuditEntryLine.computedHash(b) == header.hash else { throw tampered("log entry \(seq) does not hash to its stated hash") }
            return header.hash
        }
    }

    /// The raw `data` object of an entry line.
    static func dataBytes(_ line: [UInt8]) -> [UInt8]? {
        line.withUnsafeBufferPointer { b in
            var tape = JSONTape()
            guard (try? tape.parse(b)) != nil, let data = tape.member(tape.root, "data") else { return nil }
            return Array(tape.rawBytes(data))
        }
    }

    static func isCheckpoint(_ line: [UInt8]) -> Bool {
        line.withUnsafeBufferPointer { b in
            var tape = JSONTape()
            guard (try? tape.parse(b)) != nil, let type = tape.member(tape.root, "type") else { return false }
            return tape.stringEquals(type, "checkpoint")
        }
    }

    private func checkpointVerifies(_ line: [UInt8], through: Int64, head: LogDigest) throws -> Bool {
        try line.withUnsafeBufferPointer { b in
            var tape = JSONTape()
            guard (try? tape.parse(b)) != nil, let data = tape.member(tape.root, "data"),
                  let t = tape.member(data, "through"), tape.integer(t) == through,
                  let s = tape.member(data, "signature"), let text = tape.string(s), let signature = Data(base64Encoded: text)
            else { return false }
            return station.publicKey.isValidSignature(signature, for: Checkpoint.message(stationID: station.stationID, through: through, head: head.bytes))
        }
    }

    /// Stations from before receipts kept their entry's seq: find the entry by its sale id.
    private func legacyLogSeq(saleID: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT seq FROM log WHERE instr(line, ?) > 0 ORDER BY seq LIMIT 1",
                           arguments: [Data(#","data":{"sale":\#(saleID),"#.utf8)])
    }
}
