/// The meter's memory of accepted token identifiers: a bounded, sorted table.
///
/// A TID in the table is USED; once the table is full, a TID older than its oldest entry is
/// OLD (the meter can no longer tell whether it was used). Accepting a TID into a full table
/// drops the oldest. The table is cleared by a key change with the rollover bit.
public struct TIDMemory: Equatable, Sendable, Codable {
    /// How many TIDs are kept.
    public let depth: Int
    /// The accepted TIDs, oldest first.
    public private(set) var tids: [UInt32]


    /// A memory keeping `depth` TIDs (at least 1), starting with the highest `depth` of `tids`.
    public init(depth: Int, tids: [UInt32] = []) {
        precondition(depth >= 1, "the TID memory keeps at least one TID")
        self.depth = depth
        self.tids = Array(tids.sorted().suffix(depth))
        self.tids.reserveCapacity(depth + 1)
    }

    /// USED, OLD, or nil when the TID may be accepted.
    public func check(_ tid: UInt32) -> TokenResult? {
        if let first = tids.first, tids.count >= depth, tid < first { return .old }
        return index(of: tid).found ? .used : nil
    }

    /// Remembers an accepted TID (call only after ``check(_:)`` said nil).
    public mutating func remember(_ tid: UInt32) {
        let (at, found) = index(of: tid)
        guard !found else { return }
        tids.insert(tid, at: at)
        if tids.count > depth { tids.removeFirst() }
    }

    /// Forgets every TID (key change with rollover).
    public mutating func clear() { tids.removeAll(keepingCapacity: true) }

    /// Binary search: the insertion index and whether the TID is present.
    func index(of tid: UInt32) -> (at: Int, found: Bool) {
        var lo = 0, hi = tids.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if tids[mid] < tid { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < tids.count && tids[lo] == tid)
    }
}
