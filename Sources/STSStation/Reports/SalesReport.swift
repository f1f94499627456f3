import Foundation
import GRDB
import STSAuditLog

/// One row of a report: a group's name and its figures (money in cents, units in tenths).
public struct ReportRow: Sendable, Equatable {
    public var group: [String]
    public var count: Int64
    public var values: [Int64]
}

/// A station report: daily takings by operator and channel, energy and money per tariff block,
/// arrears and debt recovered, and tokens per kind. Reversed sales are left out.
public struct SalesReport: Sendable {
    public var takings: [ReportRow] = []    // [day, operator, channel] → money, fee, vat, energy
    public var blocks: [ReportRow] = []     // [block, price] → tenths, cost
    public var recovered: [ReportRow] = []  // [day] → arrears, debt, fixed charges
    public var tokens: [ReportRow] = []     // [kind] → tokens
}

extension Station {
    /// The report for sales from `from` up to (not including) `to`, Unix seconds (any role).
    public func report(from: Int64, to: Int64) throws -> SalesReport {
        try read { tx in
            var r = SalesReport()
            let live = "reversed_at IS NULL AND created_at >= ? AND created_at < ?"
            for row in try Row.fetchAll(tx.db, sql: """
                SELECT created_at / 86400, operator, channel, COUNT(*), SUM(money), SUM(fee), SUM(vat), SUM(energy)
                FROM sales WHERE kind = 'credit' AND \(live) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """, arguments: [from, to]) {
                r.takings.append(ReportRow(group: [String(AuditTime.format((row[0] as Int64) * 86_400).prefix(10)), row[1], row[2]],
                                           count: row[3], values: [row[4], row[5], row[6], row[7]]))
            }
            for row in try Row.fetchAll(tx.db, sql: """
                SELECT b.block, b.price, COUNT(*), SUM(b.tenths), SUM(b.cost) FROM sale_blocks b JOIN sales s ON s.id = b.sale_id
                WHERE s.\(live.replacingOccurrences(of: "created_at", with: "s.created_at")) GROUP BY 1, 2 ORDER BY 1, 2
                """, arguments: [from, to]) {
                r.blocks.append(ReportRow(group: ["\(row[0] as Int64)", "\(row[1] as Int64)"], count: row[2], values: [row[3], row[4]]))
            }
            for row in try Row.fetchAll(tx.db, sql: """
                SELECT created_at / 86400, COUNT(*), SUM(arrears), SUM(debt), SUM(fixed) FROM sales
                WHERE kind = 'credit' AND \(live) GROUP BY 1 ORDER BY 1
                """, arguments: [from, to]) {
                r.recovered.append(ReportRow(group: [String(AuditTime.format((row[0] as Int64) * 86_400).prefix(10))], count: row[1],
                                             values: [row[2], row[3], row[4]]))
            }
            for row in try Row.fetchAll(tx.db, sql: """
                SELECT kind, COUNT(*), SUM(length(tokens) - length(replace(tokens, ' ', '')) + (tokens != ''))
                FROM sales WHERE \(live) GROUP BY 1 ORDER BY 1
                """, arguments: [from, to]) {
                r.tokens.append(ReportRow(group: [row[0]], count: row[1], values: [row[2]]))
            }
            return r
        }
    }
}
