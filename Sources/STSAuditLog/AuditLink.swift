import Crypto
import Foundation

/// The checks that join lines (Specs/audit-log.md §5 step 3 and 4): sequence, chain, station,
/// signatures, sealing, TIDs, sales and reversals. Fed the lines' facts in order, one window
/// at a time, so the verifier never holds more than a window of lines.
struct AuditLink {
    let publicKey: Curve25519.Signing.PublicKey
    var report = AuditReport()
    var stationID: String?
    var previous: (seq: Int64, hash: LogDigest)?
    var expectedSeq: Int64 = 1
    var lastCheckpointLine = 0
    var lines = 0
    var lastFacts: (line: Int, seq: Int64?, hash: LogDigest?, kind: EntryKind)?
    var beforeLast: EntryKind?
    var seenTIDs: [TIDKey: Int] = [:]
    var sales: [Int64: Sale] = [:]
    /// Credit carried by each account's latest unreversed sale.
    var carry: [Int64: Int64] = [:]
    /// Unreversed sales per account, latest last: a reversal undoes the latest one.
    var liveSales: [Int64: [Int64]] = [:]
    /// Engineering and key-change records, which reprints may also name.
    var otherRecords: Set<Int64> = []
    var totalsOverflowed = false
    /// The seq of the line after the last valid checkpoint (where an unsealed tail starts).
    var seqAfterCheckpoint: Int64?

    struct Sale {
        var line: Int
        var account: Int64
        var carriedIn: Int64
        var paid: Int64
        var reversed: Bool
    }

    init(publicKey: Curve25519.Signing.PublicKey) { self.publicKey = publicKey }

    mutating func problem(_ line: Int, _ seq: Int64?, _ code: String, _ message: String) {
        report.record(AuditProblem(line: line, seq: seq, code: code, message: message))
    }

    mutating func add(_ f: EntryFacts) {
        lines += 1
        report.entries += 1
        for p in f.problems { report.record(p) }
        beforeLast = lastFacts?.kind
        if f.line == lastCheckpointLine + 1 { seqAfterCheckpoint = f.seq }
        lastFacts = (f.line, f.seq, f.seq == nil ? nil : f.hash, f.kind)
        guard let seq = f.seq else { previous = nil; return }
        func add(_ code: String, _ message: String) { problem(f.line, seq, code, message) }
        if seq != expectedSeq {
            if seq < expectedSeq {
                add("sequence", "entry \(seq) comes again or out of order after entry \(expectedSeq - 1)")
            } else {
                add("sequence", "entr\(seq - expectedSeq == 1 ? "y \(expectedSeq) is" : "ies \(expectedSeq)–\(seq - 1) are") missing before entry \(seq)")
            }
        }
        if let p = previous {
            if f.prev != p.hash { add("chain", "prev does not match the hash of the line before (entry \(p.seq))") }
        } else if f.line == 1 && f.prev != LogDigest.genesis {
            add("chain", "the first entry's prev must be 64 zeros")
        }
        // seq ≤ 2^63 − 1 (read with overflow checks), so the next one is representable or saturates.
        expectedSeq = seq == Int64.max ? seq : seq + 1
        report.lastSeq = seq
        if f.line == 1 && f.kind != .station {
            add("format", "the log must start with the station entry")
        }

        switch f.kind {
        case .station:
            if f.line != 1 {
                add("sequence", "a station entry after line 1 (only line 1 names the station)")
                break
            }
            stationID = f.stationID
            if f.stationKey != publicKey.rawRepresentation.base64EncodedString() {
                add("station-key", "the log names a station key other than the public key given")
            }
        case .checkpoint:
            report.checkpoints += 1
            guard let through = f.through, let signature = f.signature, let stationID else {
                add("format", "a checkpoint needs integer through, a head, a base64 signature and the station entry on line 1")
                break
            }
            if through != seq - 1 || !f.headMatches {
                add("signature", "the checkpoint must seal the entry just before it (\(seq - 1))")
            } else if !publicKey.isValidSignature(Data(signature), for: Checkpoint.message(stationID: stationID, through: through, head: f.prev.bytes)) {
                add("signature", "the checkpoint's signature does not verify with the station's public key")
            } else {
                lastCheckpointLine = f.line
            }
        case .sale:
            guard let id = f.saleID, let account = f.account else { break }
            report.sales += 1
            total(\.paidCents, f.paid)
            total(\.unitsTenths, f.units)
            if let other = sales[id] { add("reference", "sale \(id) was already recorded at line \(other.line)") }
            sales[id] = Sale(line: f.line, account: account, carriedIn: f.carriedIn, paid: f.paid, reversed: false)
            if f.carriedIn != (carry[account] ?? 0) {
                add("money", "carried in \(f.carriedIn) cents, but the account's last sale carried out \(carry[account] ?? 0)")
            }
            carry[account] = f.carriedOut
            liveSales[account, default: []].append(id)
        case .reversal:
            report.reversals += 1
            total(\.refundedCents, f.paid)
            guard let id = f.refundedSale else { break }
            guard let sale = sales[id] else { add("reference", "reverses sale \(id), which the log does not hold before it"); break }
            if sale.reversed {
                add("reference", "sale \(id) is reversed twice")
                break
            }
            if f.paid != sale.paid { add("money", "refund \(f.paid) cents is not the \(sale.paid) paid for sale \(id)") }
            sales[id]?.reversed = true
            if liveSales[sale.account]?.last == id {
                liveSales[sale.account]?.removeLast()
                carry[sale.account] = sale.carriedIn
            } else {
                add("reference", "sale \(id) is not the latest unreversed sale on account \(sale.account)")
            }
        case .engineering, .keyChange:
            if let id = f.saleID { otherRecords.insert(id) }
        case .reprint:
            if let id = f.saleID, sales[id] == nil, !otherRecords.contains(id) {
                add("reference", "reprints sale \(id), which the log does not hold before it")
            }
        case .export, .other:
            break
        }
        report.tokens += f.tokenCount
        report.tokensDecrypted += f.decrypted
        for t in f.tids {
            if let first = seenTIDs[t] {
                add("duplicate-tid", "meter \(t.pan) already received TID \(t.tid) (base date \(t.baseDate)) at line \(first)")
            } else {
                seenTIDs[t] = f.line
            }
        }
        previous = (seq, f.hash)
    }

    /// Adds to a report total; a crafted log that overflows 64 bits is a problem, not a trap.
    mutating func total(_ field: WritableKeyPath<AuditReport, Int64>, _ value: Int64) {
        let (v, overflow) = report[keyPath: field].addingReportingOverflow(value)
        if overflow {
            if !totalsOverflowed, let last = lastFacts {
                problem(last.line, last.seq, "money", "the log's totals exceed 64 bits: amounts this large are not genuine")
            }
            totalsOverflowed = true
            report[keyPath: field] = value < 0 ? Int64.min : Int64.max
        } else {
            report[keyPath: field] = v
        }
    }

    /// Step 4: the end of the log.
    mutating func finish(head: String?) -> AuditReport {
        if let last = lastFacts, let hash = last.hash { report.head = hash.description }
        guard let last = lastFacts else {
            problem(0, nil, "format", "the log is empty")
            return report
        }
        if lastCheckpointLine < lines {
            problem(lastCheckpointLine + 1, seqAfterCheckpoint, "unsealed",
                    "lines \(lastCheckpointLine + 1)–\(lines) are not sealed by a signed checkpoint (cut short or appended to)")
        } else if beforeLast != .export {
            problem(last.line, last.seq, "unsealed", "the log does not end with an export and its checkpoint: it was cut short")
        }
        if let head, head != report.head {
            problem(last.line, last.seq, "unsealed", "the log ends at head \(report.head), not the published \(head): it was cut short")
        }
        return report
    }
}
