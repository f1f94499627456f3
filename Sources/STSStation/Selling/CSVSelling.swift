import Foundation

/// What selling a sale CSV did, row by row.
public struct SaleCSVSummary: Sendable, Equatable {
    /// Every row of the file (requests and rows refused before selling).
    public var rows = 0
    /// Rows sold now.
    public var sold = 0
    /// Rows whose request id an earlier run already sold: the committed sale was returned, not a new one.
    public var replayed = 0
    /// Rows refused, before selling (malformed) or by the station (unknown meter, too little money…).
    public var refused = 0

    /// A summary with these counts.
    public init(rows: Int = 0, sold: Int = 0, replayed: Int = 0, refused: Int = 0) {
        self.rows = rows
        self.sold = sold
        self.replayed = replayed
        self.refused = refused
    }
}

extension Station {
    /// Sells a sale CSV (operators and supervisors) in committed groups of `groupSize` (one fsync
    /// each, ``sellBatch(_:groupSize:by:committed:)``), writing the result CSV at `resultPath` as
    /// each group commits (``SaleCSV`` for the input; the results are `OUT.partial`, mode 0600,
    /// renamed to `OUT` when complete). `progress` is called after each group with the requests
    /// done, their total and the sales per second so far.
    ///
    /// The result file is created before the first sale: when it cannot be, nothing is sold.
    public func sellCSV(_ sheet: SaleCSV, resultPath: String, groupSize: Int = 500, by actor: Actor,
                        progress: (_ done: Int, _ total: Int, _ perSecond: Double) -> Void = { _, _, _ in }) throws -> SaleCSVSummary {
        // The role first: a user who may not sell leaves no result file behind.
        try actor.require(sellers, to: "sell")
        let results = try SaleResultCSV(path: resultPath)
        for row in sheet.rejected { results.rejected(row) }
        var summary = SaleCSVSummary(rows: sheet.count, refused: sheet.rejected.count)
        var done = 0
        let started = Date()
        try sellBatch(sheet.rows.map(\.request), groupSize: groupSize, by: actor) { group in
            for r in group {
                results.result(r, line: sheet.rows[r.index].line)
                switch r.receipt?.replayed {
                case true?: summary.replayed += 1
                case false?: summary.sold += 1
                case nil: summary.refused += 1
                }
            }
            try results.sync()
            done += group.count
            progress(done, sheet.rows.count, Double(done) / max(Date().timeIntervalSince(started), 1e-6))
        }
        try results.finish()
        return summary
    }
}
