import Crypto
import Dispatch
import Foundation
import STSCrypto

/// Verifies an exported log offline, with nothing but the file, the station's public key and
/// (optionally) the vending keys:
///
/// - every line is an entry whose bytes hash to its stated hash, and whose `prev` is the line
///   before's hash, with `seq` counting 1, 2, 3 … (so nothing altered, dropped, added or reordered);
/// - the first entry names the station and its public key, which must be the one given;
/// - every checkpoint's signature verifies and seals the entry just before it, every entry is
///   sealed by a later checkpoint, and the log ends with an export sealed by a checkpoint;
/// - no meter received the same TID twice (on one base date);
/// - every sale balances: money paid plus credit carried in equals the deductions, the energy by
///   tariff block (each block's cost recomputed) and the credit carried out, and carried credit
///   flows unbroken from each sale to the next on the same account;
/// - with keys, every token decrypts under its meter's key to the entry's TID and units.
///
/// Lines are checked on their own in parallel; the links between lines in one pass after.
public struct AuditVerifier: Sendable {
    public let publicKey: Curve25519.Signing.PublicKey
    public let keys: [String: VendingKey]?

    public init(publicKey: Curve25519.Signing.PublicKey, keys: [String: VendingKey]? = nil) {
        self.publicKey = publicKey
        self.keys = keys
    }

    /// Verifies a whole exported log (JSON lines).
    public func verify(_ log: [UInt8]) -> AuditReport {
        var lines: [Range<Int>] = []
        var start = 0
        for i in log.indices where log[i] == 10 {
            lines.append(start..<i)
            start = i + 1
        }
        if start < log.count { lines.append(start..<log.count) }

        var facts = [EntryFacts](repeating: EntryFacts(), count: lines.count)
        let keys = self.keys
        let ranges = lines
        log.withUnsafeBufferPointer { whole in
            facts.withUnsafeMutableBufferPointer { out in
                let chunks = max(1, min(lines.count / 2048, ProcessInfo.processInfo.activeProcessorCount * 4))
                // Each chunk writes only its own slots; the buffers outlive concurrentPerform.
                nonisolated(unsafe) let unsafeOut = out.baseAddress!
                nonisolated(unsafe) let all = whole
                let lines = ranges
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = lines.count * c / chunks, hi = lines.count * (c + 1) / chunks
                    for i in lo..<hi {
                        let r = lines[i]
                        let bytes = UnsafeBufferPointer(rebasing: all[r])
                        unsafeOut[i] = EntryFacts(line: i + 1, bytes: bytes, keys: keys)
                    }
                }
            }
        }
        return link(facts)
    }

    /// The checks that join lines: sequence, chain, signatures, sealing, TIDs, sales.
    func link(_ facts: [EntryFacts]) -> AuditReport {
        var report = AuditReport()
        report.entries = facts.count
        var stationID: String?
        var previous: EntryFacts?
        var expectedSeq: Int64 = 1
        var lastCheckpointLine = 0
        var seenTIDs: [TIDKey: Int] = [:]
        var sales: [Int64: (line: Int, account: Int64, carriedIn: Int64, paid: Int64, reversed: Bool)] = [:]
        var carry: [Int64: Int64] = [:]
        // Unreversed sales per account, latest last: a reversal undoes the latest one.
        var liveSales: [Int64: [Int64]] = [:]
        // Engineering and key-change records, which reprints may also name.
        var otherRecords: Set<Int64> = []

        func add(_ f: EntryFacts, _ code: String, _ message: String) {
            report.problems.append(AuditProblem(line: f.line, seq: f.seq, code: code, message: message))
        }

        for f in facts {
            report.problems += f.problems
            guard let seq = f.seq else { previous = nil; continue }
            if seq != expectedSeq {
                if seq < expectedSeq {
                    add(f, "sequence", "entry \(seq) comes again or out of order after entry \(expectedSeq - 1)")
                } else {
                    add(f, "sequence", "entr\(seq - expectedSeq == 1 ? "y \(expectedSeq) is" : "ies \(expectedSeq)–\(seq - 1) are") missing before entry \(seq)")
                }
            }
            if let p = previous {
                if f.prev != p.hash { add(f, "chain", "prev does not match the hash of the line before (entry \(p.seq ?? 0))") }
            } else if f.line == 1 && f.prev != AuditEntryLine.genesis {
                add(f, "chain", "the first entry's prev must be 64 zeros")
            }
            expectedSeq = seq + 1
            report.lastSeq = seq

            switch f.type {
            case "station":
                if f.line != 1 { add(f, "sequence", "a second station entry") }
                stationID = f.stationID
                if f.stationKey != publicKey.rawRepresentation.base64EncodedString() {
                    add(f, "station-key", "the log names a station key other than the public key given")
                }
            case Checkpoint.type:
                report.checkpoints += 1
                if f.line == 1 { add(f, "format", "the log must start with the station entry") }
                guard let through = f.through, let head = f.head, let sig = f.signature, let sigBytes = Data(base64Encoded: sig),
                      let stationID
                else { add(f, "format", "a checkpoint needs through, head, signature and an earlier station entry"); break }
                if through != seq - 1 || head != Hex.string(f.prev) {
                    add(f, "signature", "the checkpoint must seal the entry just before it (\(seq - 1))")
                } else if !publicKey.isValidSignature(sigBytes, for: Checkpoint.message(stationID: stationID, through: through, head: f.prev)) {
                    add(f, "signature", "the checkpoint's signature does not verify with the station's public key")
                } else {
                    lastCheckpointLine = f.line
                }
            case "sale":
                report.sales += 1
                report.paidCents += f.paid
                report.unitsTenths += f.units
                guard let id = f.saleID, let account = f.account else { break }
                if let other = sales[id] { add(f, "reference", "sale \(id) was already recorded at line \(other.line)") }
                sales[id] = (f.line, account, f.carriedIn, f.paid, false)
                if f.carriedIn != (carry[account] ?? 0) {
                    add(f, "money", "carried in \(f.carriedIn) cents, but the account's last sale carried out \(carry[account] ?? 0)")
                }
                carry[account] = f.carriedOut
                liveSales[account, default: []].append(id)
            case "reversal":
                report.reversals += 1
                report.refundedCents += f.paid
                guard let id = f.refundedSale else { break }
                guard let sale = sales[id] else { add(f, "reference", "reverses sale \(id), which the log does not hold before it"); break }
                if sale.reversed { add(f, "reference", "sale \(id) is reversed twice") }
                if f.paid != sale.paid { add(f, "money", "refund \(f.paid) cents is not the \(sale.paid) paid for sale \(id)") }
                sales[id]?.reversed = true
                if liveSales[sale.account]?.last == id {
                    liveSales[sale.account]?.removeLast()
                    carry[sale.account] = sale.carriedIn
                } else if !sale.reversed {
                    add(f, "reference", "sale \(id) is not the latest unreversed sale on account \(sale.account)")
                }
            case "engineering", "key_change":
                if let id = f.saleID { otherRecords.insert(id) }
            case "reprint":
                if let id = f.saleID, sales[id] == nil, !otherRecords.contains(id) { add(f, "reference", "reprints sale \(id), which the log does not hold before it") }
            case "account_open":
                break
            default:
                break
            }
            report.tokens += f.tokenCount
            report.tokensDecrypted += f.decrypted
            for t in f.tids {
                if let first = seenTIDs[t] {
                    add(f, "duplicate-tid", "meter \(t.pan) already received TID \(t.tid) (base date \(t.baseDate)) at line \(first)")
                } else {
                    seenTIDs[t] = f.line
                }
            }
            previous = f
        }
        if let last = facts.last(where: { $0.seq != nil }) { report.head = Hex.string(last.hash) }
        if facts.isEmpty {
            report.problems.append(AuditProblem(line: 0, seq: nil, code: "format", message: "the log is empty"))
        } else if lastCheckpointLine < facts.count {
            let first = facts[lastCheckpointLine]
            report.problems.append(AuditProblem(line: first.line, seq: first.seq, code: "unsealed",
                message: "lines \(first.line)–\(facts.count) are not sealed by a signed checkpoint (cut short or appended to)"))
        } else if facts.count < 2 || facts[facts.count - 2].type != "export" {
            let last = facts[facts.count - 1]
            report.problems.append(AuditProblem(line: last.line, seq: last.seq, code: "unsealed",
                message: "the log does not end with an export and its checkpoint: it was cut short"))
        }
        return report
    }
}
