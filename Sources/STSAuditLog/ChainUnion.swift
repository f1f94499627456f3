import STSSupport
import STSTariff

/// What only the union of several stations' logs shows, when the stations share one database
/// (one sequence of sale ids, one set of accounts and meters) but each keeps its own chain. Each
/// log is checked alone by ``AuditVerifier``; this adds, with no I/O:
///
/// - `tid-reused-across-stations`: a meter (PAN, on one base date, as the single-log rule) was
///   given a TID that another station's log already gave it. Repeats within one file are the
///   single-log `duplicate-tid`, not repeated here.
/// - `carried-credit-break`: an account's credit sales, taken in sale-id order over every log,
///   do not carry credit from one to the next.
/// - `sale-id-reused-across-stations`: two logs record a credit sale under the same id.
///
/// Carried credit follows the single-log rules (Specs/audit-log.md §5 step 3) on the merged
/// events of each account: an account starts at 0; a sale must carry in the account's carried
/// credit and leaves its `carried_out`; a reversal of the account's latest unreversed sale (not
/// sold onto a card, not older than the account's latest card void) restores that sale's
/// `carried_in`; a card void of a card sale of the same account adds its `credit_restored`.
/// Reversals and voids refused by those rules change nothing (the single-log verifier reports
/// them in their own file). A reversal or void has no sale id of its own, so it is placed after
/// the largest sale id its own file logged before it (credit, engineering or key-change) and
/// after the sale it names. Within one file whose ids rise line by line, as a station writes
/// them, that is the file's own order, so a log clean alone is clean here; across stations it is
/// a best guess when two stations touched one account between two of their sale ids.
public struct ChainUnion: Sendable {
    /// A problem found across logs, at a line of one station's file.
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        /// The station (its file's base name) whose file holds the problem's line.
        public var station: String
        /// The line and seq in that station's file, a stable code, and a message naming the other station.
        public var problem: AuditProblem

        /// The problem as `STATION: line L (seq S): code: message`.
        public var description: String { "\(station): \(problem)" }
    }

    /// A credit sale: only what the carried-credit chain and the messages need.
    struct Sale {
        var id, account, carriedIn, carriedOut: Int64
        var seq: Int64?
        var station: Int32
        var onCard: Bool
        var line: Int
    }

    /// A reversal or card void, placed at `order` among the sale ids.
    struct Move {
        var order, sale: Int64
        /// A void's `account` (a reversal's account is its sale's).
        var account: Int64?
        var restored: Int64
        var seq: Int64?
        var station: Int32
        var isVoid: Bool
        var line: Int
    }

    /// Where a TID was first given: a station and a line of its file.
    struct Origin {
        var station: Int32
        var line: Int
    }

    private var names: [String] = []
    private var creditSales: [Sale] = []
    private var moves: [Move] = []
    private var tids: [MeterOnBaseDate: [Int64: Origin]] = [:]
    private var pans: Set<UInt64> = []
    /// TID problems, found as the logs are added (the station as its index in `names`).
    private var found: [(station: Int32, problem: AuditProblem)] = []

    /// An empty union: no stations yet.
    public init() {}

    /// The stations added.
    public var stations: Int { names.count }
    /// Credit sales (integer `sale` and `account`) over every log added.
    public var sales: Int { creditSales.count }
    /// Distinct meters (PANs) given a token with a TID, over every log added.
    public var meters: Int { pans.count }

    /// Adds one station's exported log (already verified alone); `station` is its file's base name.
    /// Add each station once: its own repeats are left to the single-log verifier.
    public mutating func add(station: String, log: [UInt8]) {
        log.withUnsafeBufferPointer { add(station: station, log: $0) }
    }

    /// Adds one station's exported log held in memory (read or mapped), without copying it.
    public mutating func add(station: String, log: UnsafeBufferPointer<UInt8>) {
        let index = Int32(clamping: names.count)
        names.append(station)
        var tape = JSONTape()
        // The largest sale id this file logged so far: where its reversals and voids go.
        var anchor = Int64.min
        var start = 0, line = 0
        // Split as §5 step 1: at every LF; a last piece is a line only when it is not empty.
        while start < log.count {
            let end = log[start...].firstIndex(of: 10) ?? log.count
            line += 1
            // The verifier's own reader, so a line means here exactly what it means there.
            let f = EntryFacts(line: line, bytes: UnsafeBufferPointer(rebasing: log[start..<end]), keys: nil, tape: &tape)
            start = end + 1
            switch f.kind {
            case .sale:
                guard let id = f.saleID, let account = f.account else { break }
                creditSales.append(Sale(id: id, account: account, carriedIn: f.carriedIn, carriedOut: f.carriedOut, seq: f.seq,
                                        station: index, onCard: f.onCard, line: line))
            case .reversal:
                guard let id = f.refundedSale else { break }
                moves.append(Move(order: max(anchor, id), sale: id, account: nil, restored: 0, seq: f.seq, station: index, isVoid: false, line: line))
            case .cardVoid:
                // A void of an imported purchase (no sale) moves no carried credit.
                guard let id = f.saleID, let account = f.account else { break }
                moves.append(Move(order: max(anchor, id), sale: id, account: account, restored: f.carriedIn, seq: f.seq, station: index,
                                  isVoid: true, line: line))
            default: break
            }
            if f.kind == .sale || f.kind == .engineering || f.kind == .keyChange, let id = f.saleID { anchor = max(anchor, id) }
            if let t = f.firstTID { remember(t, f, station: index) }
            for t in f.moreTIDs { remember(t, f, station: index) }
        }
    }

    /// The no-TID-twice rule across files (per meter and base date, as within one file).
    private mutating func remember(_ t: TIDKey, _ f: borrowing EntryFacts, station: Int32) {
        pans.insert(t.pan)
        let meter = MeterOnBaseDate(pan: t.pan, baseDate: t.baseDate)
        guard let first = tids[meter]?[t.tid] else {
            tids[meter, default: [:]][t.tid] = Origin(station: station, line: f.line)
            return
        }
        guard first.station != station else { return }
        found.append((station, AuditProblem(line: f.line, seq: f.seq, code: "tid-reused-across-stations",
            message: "meter \(PANText.format(t.pan)) received TID \(t.tid) (base date \(t.baseDate)) from \(names[Int(first.station)]) "
                + "(line \(first.line)) and from \(names[Int(station)]) (line \(f.line))")))
    }

    /// Problems found across the logs (empty when clean), by station in the order added, then line.
    public func problems() -> [Problem] {
        let all = found + carriedCreditBreaks()
        return all.enumerated()
            .sorted { ($0.element.station, $0.element.problem.line, $0.offset) < ($1.element.station, $1.element.problem.line, $1.offset) }
            .map { Problem(station: names[Int($0.element.station)], problem: $0.element.problem) }
    }

    /// One account's sale, reversal or void, in the order the chain is followed.
    private struct Event {
        var order: Int64
        var phase: UInt8       // 0 a sale, 1 a move: a move anchored at a sale id comes after that sale
        var station: Int32
        var line: Int
        var sale: Int          // index in creditSales
        var move: Int?         // index in moves
        func precedes(_ o: Event) -> Bool { (order, phase, station, line) < (o.order, o.phase, o.station, o.line) }
    }

    /// The carried-credit chain of every account over every log, and sale ids logged twice.
    private func carriedCreditBreaks() -> [(station: Int32, problem: AuditProblem)] {
        var out: [(station: Int32, problem: AuditProblem)] = []
        var byID: [Int64: Int] = [:]
        var byAccount: [Int64: [Event]] = [:]
        for (i, s) in creditSales.enumerated() {
            if let first = byID[s.id] {
                let f = creditSales[first]
                if f.station != s.station {
                    out.append((s.station, AuditProblem(line: s.line, seq: s.seq, code: "sale-id-reused-across-stations",
                        message: "sale \(s.id) is recorded by \(names[Int(f.station)]) (line \(f.line)) and by \(names[Int(s.station)]) (line \(s.line))")))
                }
            } else {
                byID[s.id] = i
            }
            byAccount[s.account, default: []].append(Event(order: s.id, phase: 0, station: s.station, line: s.line, sale: i))
        }
        for (j, m) in moves.enumerated() {
            // A sale no log holds: nothing to undo (the single-log verifier's `reference`).
            guard let i = byID[m.sale] else { continue }
            byAccount[creditSales[i].account, default: []].append(Event(order: m.order, phase: 1, station: m.station, line: m.line, sale: i, move: j))
        }
        // Per sale: where it stands in its account's events (-1 before it), reversed, voided.
        var position = [Int](repeating: -1, count: creditSales.count)
        var reversed = [Bool](repeating: false, count: creditSales.count)
        var voided = [Bool](repeating: false, count: creditSales.count)
        for account in byAccount.keys.sorted() {
            guard let events = byAccount[account]?.sorted(by: { $0.precedes($1) }) else { continue }
            var carry: Int64 = 0
            var live: [Int] = []
            var lastVoid = -1
            // What set `carry`, for the message.
            var source = "no earlier sale of account \(account) in any log (an account starts at 0.00)"
            for (p, e) in events.enumerated() {
                let s = creditSales[e.sale]
                guard let mi = e.move else {
                    if s.carriedIn != carry {
                        out.append((s.station, AuditProblem(line: s.line, seq: s.seq, code: "carried-credit-break",
                            message: "account \(account): sale \(s.id) at \(names[Int(s.station)]) (line \(s.line)) carried in "
                                + "\(Money(cents: s.carriedIn)), but \(source)")))
                    }
                    carry = s.carriedOut
                    source = "sale \(s.id) at \(names[Int(s.station)]) (line \(s.line)) carried out \(Money(cents: carry))"
                    live.append(e.sale)
                    position[e.sale] = p
                    continue
                }
                let m = moves[mi]
                // Refused as in one log: a sale not held before, or already reversed or voided.
                guard position[e.sale] >= 0, !reversed[e.sale], !voided[e.sale] else { continue }
                let at = "\(names[Int(m.station)]) (line \(m.line))"
                if m.isVoid {
                    // Only a card sale of the account named is voided; a sum past 64 bits restores nothing.
                    guard m.account == s.account, s.onCard else { continue }
                    voided[e.sale] = true
                    lastVoid = p
                    let (sum, overflow) = carry.addingReportingOverflow(m.restored)
                    if !overflow { carry = sum }
                    source = "the card void of sale \(s.id) at \(at) left \(Money(cents: carry))"
                } else {
                    // Card sales are voided, not reversed; nor is a sale made before a void.
                    guard !s.onCard, lastVoid < position[e.sale] else { continue }
                    reversed[e.sale] = true
                    // Only the latest unreversed sale gives its carried-in back.
                    guard live.last == e.sale else { continue }
                    live.removeLast()
                    carry = s.carriedIn
                    source = "the reversal of sale \(s.id) at \(at) restored \(Money(cents: carry))"
                }
            }
        }
        return out
    }
}
