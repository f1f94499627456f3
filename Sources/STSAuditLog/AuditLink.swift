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
    var tids: [MeterOnBaseDate: MeterTIDs] = [:]
    var sales = SaleBook()
    var accounts: [Int64: AccountLedger] = [:]
    /// Engineering and key-change records, which reprints may also name.
    var otherRecords: Set<Int64> = []
    var totalsOverflowed = false
    /// Which totals passed 64 bits (they stay at their limit).
    var saturated = (paid: false, units: false, refunded: false)
    /// The seq of the line after the last valid checkpoint (where an unsealed tail starts).
    var seqAfterCheckpoint: Int64?

    /// One chain of a shared store: account continuity is the union's check (``ChainUnion``).
    var sharedAccounts = false

    init(publicKey: Curve25519.Signing.PublicKey) { self.publicKey = publicKey }

    mutating func problem(_ line: Int, _ seq: Int64?, _ code: String, _ message: String) {
        report.record(AuditProblem(line: line, seq: seq, code: code, message: message))
    }

    mutating func add(_ f: borrowing EntryFacts) {
        lines += 1
        report.entries += 1
        for p in f.problems { report.record(p) }
        report.problemsOmitted += f.problemsOmitted
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
            guard let through = f.through, f.head != nil, let signature = f.signature, let stationID else {
                add("format", "a checkpoint needs integer through, a 64-hex head, a base64 signature of 64 bytes and the station entry on line 1")
                break
            }
            if through != seq - 1 || f.head != f.prev {
                add("signature", "the checkpoint must seal the entry just before it (\(seq - 1))")
            } else if !publicKey.isValidSignature(Data(signature), for: Checkpoint.message(stationID: stationID, through: through, head: f.prev.bytes)) {
                add("signature", "the checkpoint's signature does not verify with the station's public key")
            } else {
                lastCheckpointLine = f.line
            }
        case .sale:
            guard let id = f.saleID, let account = f.account else {
                // A void of an imported purchase (no sale here) gives nothing back.
                if f.carriedIn != 0 { add("money", "a card void without a sale restores \(f.carriedIn) cents") }
                break
            }
            report.sales += 1
            if Self.saturatingAdd(&report.paidCents, f.paid, &saturated.paid) { totalsOverflow() }
            if Self.saturatingAdd(&report.unitsTenths, f.units, &saturated.units) { totalsOverflow() }
            if let other = sales[id] { add("reference", "sale \(id) was already recorded at line \(other.line)") }
            sales[id] = SaleBook.Sale(line: f.line, account: account, carriedIn: f.carriedIn, paid: f.paid, reversed: false,
                                      onCard: f.onCard, voidable: f.voidable, cardPurchase: f.cardPurchase)
            var problem: Int64?
            accounts[account, default: AccountLedger()].update { ledger in
                if f.carriedIn != ledger.carry { problem = ledger.carry }
                ledger.carry = f.carriedOut
                ledger.liveSales.append(id)
            }
            if let carried = problem, !sharedAccounts {
                add("money", "carried in \(f.carriedIn) cents, but the account's last sale carried out \(carried)")
            }
        case .reversal:
            report.reversals += 1
            guard let id = f.refundedSale else { break }
            guard let sale = sales[id] else {
                // Another station's sale: the union of the chains checks it.
                if !sharedAccounts { add("reference", "reverses sale \(id), which the log does not hold before it") }
                if Self.saturatingAdd(&report.refundedCents, f.paid, &saturated.refunded) { totalsOverflow() }
                break
            }
            if sale.reversed {
                add("reference", "sale \(id) is reversed twice")
                break
            }
            if sale.voided || sale.onCard {
                add("reference", "reverses sale \(id), which was sold onto a card (card sales are voided, not reversed)")
                break
            }
            if let last = accounts[sale.account]?.lastVoidLine, last > sale.line {
                add("reference", "reverses sale \(id), but a card void on account \(sale.account) came after it (line \(last))")
                break
            }
            if f.paid != sale.paid { add("money", "refund \(f.paid) cents is not the \(sale.paid) paid for sale \(id)") }
            if Self.saturatingAdd(&report.refundedCents, f.paid, &saturated.refunded) { totalsOverflow() }
            var reversedSale = sale
            reversedSale.reversed = true
            sales[id] = reversedSale
            if accounts[sale.account]?.liveSales.last == id {
                accounts[sale.account]?.liveSales.removeLast()
                accounts[sale.account]?.carry = sale.carriedIn
            } else if !sharedAccounts {
                add("reference", "sale \(id) is not the latest unreversed sale on account \(sale.account)")
            }
        case .cardVoid:
            report.cardVoids += 1
            guard let id = f.saleID, let account = f.account else {
                // A void of an imported purchase (no sale here) gives nothing back.
                if f.carriedIn != 0 { add("money", "a card void without a sale restores \(f.carriedIn) cents") }
                break
            }
            guard var sale = sales[id] else {
                if !sharedAccounts { add("reference", "voids the card purchase of sale \(id), which the log does not hold before it") }
                break
            }
            if sale.reversed || sale.voided { add("reference", "voids the card purchase of sale \(id), which is already reversed or voided"); break }
            if sale.account != account { add("reference", "voids sale \(id) of account \(sale.account) as account \(account)"); break }
            if !sale.onCard { add("reference", "voids sale \(id), which was not sold onto a card"); break }
            if f.cardPurchase == nil || f.cardPurchase != sale.cardPurchase {
                add("reference", "the void's card, purchase number or TID is not sale \(id)'s card purchase")
            }
            if f.carriedIn != sale.voidable {
                add("money", "a void restores \(f.carriedIn) cents, not the \(sale.voidable) of energy and VAT sale \(id) bought")
            }
            sale.voided = true
            sales[id] = sale
            var overflow = false
            accounts[account, default: AccountLedger()].update { ledger in
                let (sum, o) = ledger.carry.addingReportingOverflow(f.carriedIn)
                if o { overflow = true } else { ledger.carry = sum }
                ledger.lastVoidLine = f.line
            }
            if overflow { add("money", "the carried credit of account \(account) overflows") }
        case .engineering, .keyChange:
            if let id = f.saleID { otherRecords.insert(id) }
        case .reprint:
            if let id = f.saleID, sales[id] == nil, !otherRecords.contains(id), !sharedAccounts {
                add("reference", "reprints sale \(id), which the log does not hold before it")
            }
        case .export, .other:
            break
        }
        report.tokens += f.tokenCount
        report.tokensDecrypted += f.decrypted
        if let t = f.firstTID { remember(t, f, seq) }
        for t in f.moreTIDs { remember(t, f, seq) }
        previous = (seq, f.hash)
    }

    /// The no-TID-twice rule (per meter and base date).
    mutating func remember(_ t: TIDKey, _ f: borrowing EntryFacts, _ seq: Int64) {
        if let first = tids[MeterOnBaseDate(pan: t.pan, baseDate: t.baseDate), default: MeterTIDs()].insert(t.tid, line: f.line) {
            problem(f.line, seq, "duplicate-tid", "meter \(PANText.format(t.pan)) already received TID \(t.tid) (base date \(t.baseDate)) at line \(first)")
        }
    }

    /// Adds to a report total; returns whether it passed 64 bits (a crafted log: a problem, not
    /// a trap). Once a total has passed 64 bits it stays at its limit.
    @inline(__always) static func saturatingAdd(_ sum: inout Int64, _ value: Int64, _ saturated: inout Bool) -> Bool {
        if saturated { return false }
        let (v, overflow) = sum.addingReportingOverflow(value)
        sum = overflow ? (value < 0 ? Int64.min : Int64.max) : v
        saturated = overflow
        return overflow
    }

    /// The first total to pass 64 bits is one `money` problem at the line being added.
    mutating func totalsOverflow() {
        if !totalsOverflowed, let last = lastFacts {
            problem(last.line, last.seq, "money", "the log's totals exceed 64 bits: amounts this large are not genuine")
        }
        totalsOverflowed = true
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

/// A PAN kept as a number, printed as its 18 digits.
enum PANText {
    static func format(_ pan: UInt64) -> String {
        let digits = String(pan)
        return String(repeating: "0", count: max(0, 18 - digits.count)) + digits
    }
}

extension AccountLedger {
    /// Changes the ledger in place (one hash lookup for the read and the write).
    mutating func update(_ body: (inout AccountLedger) -> Void) { body(&self) }
}
