/// The state the join keeps per sale, account and meter, laid out for logs of millions of
/// entries: sale ids and TIDs mostly grow, so they are appended to arrays (kept in cache)
/// instead of being scattered over hash tables; out-of-order values still work, more slowly.

/// Credit sales by id: ids in a dense run from the first one seen (gaps filled), others in a table.
struct SaleBook {
    struct Sale {
        var line: Int
        var account: Int64
        var carriedIn: Int64
        var paid: Int64
        var reversed: Bool
        /// Its card purchase was withdrawn (`card_void`): it can no longer be reversed or voided.
        var voided = false
        /// Sold onto a card: withdrawn by a void, never reversed.
        var onCard = false
        /// Its energy and VAT in cents: exactly what a void gives back.
        var voidable: Int64 = 0
        /// The card purchase it was written as (a void must name exactly this one).
        var cardPurchase: CardPurchaseKey?
    }

    private var base: Int64 = 0
    private var dense: [Sale?] = []
    private var sparse: [Int64: Sale] = [:]
    /// Empty slots filled in so far: bounded by the sales recorded, so ids far apart cannot make
    /// the dense run grow faster than the log.
    private var filled = 0
    private var recorded = 0
    /// The longest gap of ids filled in the dense run (engineering and key-change records share
    /// the sequence, so credit-sale ids skip some).
    static let maximumGap: Int64 = 4_096

    private func denseIndex(_ id: Int64) -> Int? {
        guard !dense.isEmpty else { return nil }
        let (d, o) = id.subtractingReportingOverflow(base)
        guard !o, d >= 0, d < Int64(dense.count) else { return nil }
        return Int(d)
    }

    subscript(id: Int64) -> Sale? {
        get {
            if let i = denseIndex(id), let s = dense[i] { return s }
            return sparse[id]
        }
        set {
            if let i = denseIndex(id) {
                dense[i] = newValue
                return
            }
            if dense.isEmpty, sparse.isEmpty {
                base = id
                dense.append(newValue)
                return
            }
            let (end, o1) = base.addingReportingOverflow(Int64(dense.count))
            let (gap, o2) = id.subtractingReportingOverflow(end)
            recorded += 1
            if !dense.isEmpty, !o1, !o2, gap >= 0, gap < Self.maximumGap, filled + Int(gap) <= max(recorded, Int(Self.maximumGap)) {
                filled += Int(gap)
                dense.append(contentsOf: repeatElement(nil, count: Int(gap)))
                dense.append(newValue)
            } else {
                sparse[id] = newValue
            }
        }
    }
}

/// Per account: the credit its latest unreversed sale carried out, and its unreversed sales,
/// latest last (a reversal undoes the latest one).
struct AccountLedger {
    var carry: Int64 = 0
    var liveSales: [Int64] = []
    /// The line of the account's latest card void: a sale before it can no longer be reversed
    /// (the void moved credit into the carry the reversal would restore).
    var lastVoidLine = 0
}

/// A meter's TIDs on one base date, each with the line it was first seen at: rising TIDs (the
/// station's) are appended in order; the others go to a table, so no order of TIDs costs more
/// than a hash lookup each.
struct MeterTIDs {
    var tids: [Int64] = []
    var lines: [Int] = []
    var others: [Int64: Int] = [:]

    /// Records `tid` at `line`; returns the earlier line when the TID was seen before.
    mutating func insert(_ tid: Int64, line: Int) -> Int? {
        if let last = tids.last, tid <= last {
            var lo = 0, hi = tids.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if tids[mid] < tid { lo = mid + 1 } else { hi = mid }
            }
            if lo < tids.count, tids[lo] == tid { return lines[lo] }
            if let first = others[tid] { return first }
            others[tid] = line
            return nil
        }
        if let first = others[tid] { return first }
        tids.append(tid)
        lines.append(line)
        return nil
    }
}

/// A meter on one base date: the key of the no-TID-twice rule's table.
struct MeterOnBaseDate: Hashable {
    var pan: UInt64
    var baseDate: Int64
}
