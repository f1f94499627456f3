import Crypto
import Foundation
import STSAuditLog
import STSBatch

extension StoreTransaction {
    /// The receipt of a sale row, proven against the log before it is shown again (reprints,
    /// retried requests): the row's receipt must be byte for byte the `data` of its log entry,
    /// that entry must hash to its stated hash, the next entry must chain to it, and when a
    /// checkpoint follows, the chain must reach it and its signature must verify. So a row
    /// edited in the database, or an entry edited with it, is refused instead of reprinted.
    /// Entries after the last checkpoint are checked for hash and chain only (Specs/station.md).
    func provenReceipt(_ r: Row) throws -> SaleReceipt { try provenSale(r).receipt }

    /// ``provenReceipt(_:)`` with the log entry that proves it (its seq and hash), for statements.
    func provenSale(_ r: Row) throws -> (receipt: SaleReceipt, seq: Int64, hash: LogDigest) {
        let receipt = receipt(r)
        let id: Int64 = r["id"]
        func tampered(_ why: String) -> StationError {
            .tampered("sale \(id): \(why); the database was changed outside the station. Export and verify the log (stsvend audit export, audit verify) before selling on")
        }
        // The chain that holds the entry: the selling station's (on a shared store, maybe another's).
        let chain: String = (r["station"] as String?).flatMap { $0.isEmpty ? nil : $0 } ?? station.stationID
        let key: Curve25519.Signing.PublicKey
        if chain == station.stationID {
            key = station.publicKey
        } else {
            guard let raw = try Data.fetchOne(db, sql: "SELECT public_key FROM station WHERE station_id = ?", arguments: [chain]),
                  let k = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { throw tampered("the station that sold it (\(chain)) is unknown") }
            key = k
        }
        let seq: Int64
        if let s = r["log_seq"] as Int64? {
            seq = s
        } else if let s = try legacyLogSeq(saleID: id, chain: chain) {
            seq = s
        } else {
            throw tampered("its log entry is missing")
        }
        guard let entry = try logLine(seq, chain: chain) else { throw tampered("its log entry \(seq) is missing") }
        let entryHash = try checkedLine(entry, seq: seq, tampered).hash
        guard let data = Self.dataBytes(entry), data == receipt.json else {
            throw tampered("the stored receipt differs from its signed log entry (seq \(seq))")
        }
        // The row's other columns printed with the receipt (token, TID, units) must be the receipt's.
        guard Self.summary(of: data) == (receipt.tokens, receipt.tid, receipt.unitsTenths) else {
            throw tampered("the stored token, TID or units differ from the signed receipt (seq \(seq))")
        }
        let sealedThrough = try Int64.fetchOne(db, sql: "SELECT checkpoint_seq FROM station WHERE station_id = ?", arguments: [chain]) ?? 0
        // Forward along the chain to the next checkpoint (at most a checkpoint interval away).
        var previous = entryHash
        var next = seq + 1
        var reachedCheckpoint = false
        var tape = JSONTape()
        while let line = try logLine(next, chain: chain) {
            let header = try checkedLine(line, seq: next, tampered)
            guard header.prev == previous else { throw tampered("log entry \(next) does not chain to entry \(next - 1)") }
            if let sealed = checkpointSeal(line, through: next - 1, head: previous, chain: chain, key: key, tape: &tape) {
                guard sealed else { throw tampered("the checkpoint at log entry \(next) does not verify") }
                reachedCheckpoint = true
                break
            }
            previous = header.hash
            next += 1
        }
        // A sealed entry must reach its checkpoint: a log cut back after it is not a proof.
        if seq < sealedThrough, !reachedCheckpoint {
            throw tampered("the log no longer reaches the checkpoint that sealed entry \(seq)")
        }
        return (receipt, seq, entryHash)
    }

    /// A stored line's bytes.
    func logLine(_ seq: Int64, chain: String) throws -> [UInt8]? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT line FROM log WHERE station = ? AND seq = ?"), arguments: [chain, seq]).map { Array($0) }
    }

    /// Checks a line's layout, seq and hash; returns its fixed fields.
    private func checkedLine(_ line: [UInt8], seq: Int64, _ tampered: (String) -> StationError) throws -> (seq: Int64, prev: LogDigest, hash: LogDigest) {
        try line.withUnsafeBufferPointer { b in
            guard let header = AuditEntryLine.header(b), header.seq == seq else { throw tampered("log entry \(seq) is not an entry line") }
            guard AuditEntryLine.computedHash(b) == header.hash else { throw tampered("log entry \(seq) does not hash to its stated hash") }
            return header
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

    /// The token digits, first TID and units of a receipt's JSON (units 0 when it has none).
    static func summary(of data: [UInt8]) -> ([String], Int64?, Int64) {
        data.withUnsafeBufferPointer { b in
            var tape = JSONTape()
            guard (try? tape.parse(b)) != nil else { return ([], nil, -1) }
            var tokens: [String] = []
            var tid: Int64?
            if let list = tape.member(tape.root, "tokens") {
                tape.forEachElement(list) { t in
                    if let d = tape.member(t, "token"), let s = tape.string(d) { tokens.append(s) }
                    if tid == nil, let i = tape.member(t, "tid") { tid = tape.integer(i) }
                }
            }
            let units = tape.member(tape.root, "units_tenths").flatMap { tape.integer($0) } ?? 0
            return (tokens, tid, units)
        }
    }

    /// nil when the line is not a checkpoint; else whether it seals `head` (the entry
    /// `through`) with a signature that verifies under the station's key.
    private func checkpointSeal(_ line: [UInt8], through: Int64, head: LogDigest, chain: String, key: Curve25519.Signing.PublicKey,
                                tape: inout JSONTape) -> Bool? {
        line.withUnsafeBufferPointer { b in
            guard (try? tape.parse(b)) != nil, let type = tape.member(tape.root, "type"), tape.stringEquals(type, "checkpoint") else { return nil }
            guard let data = tape.member(tape.root, "data"),
                  let t = tape.member(data, "through"), tape.integer(t) == through,
                  let s = tape.member(data, "signature"), let text = tape.plainBytes(s), let signature = Base64.decode(text), signature.count == 64
            else { return false }
            return key.isValidSignature(Data(signature), for: Checkpoint.message(stationID: chain, through: through, head: head.bytes))
        }
    }

    /// Stations from before receipts kept their entry's seq: find the entry by its sale id.
    private func legacyLogSeq(saleID: Int64, chain: String) throws -> Int64? {
        // Only SQLite stations are old enough to lack it.
        guard db.dialect == .sqlite else { return nil }
        return try Int64.fetchOne(db, sql: "SELECT seq FROM log WHERE station = ? AND instr(line, ?) > 0 ORDER BY seq LIMIT 1",
                                  arguments: [chain, Data(#","data":{"sale":\#(saleID),"#.utf8)])
    }
}
