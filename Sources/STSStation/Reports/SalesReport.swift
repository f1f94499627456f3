import Foundation
import STSAuditLog
import STSSupport
import STSTariff

/// One row of a report: a group's name and its figures (money in cents, units in tenths).
public struct ReportRow: Sendable, Equatable {
    /// The group's key, e.g. [day, operator, channel] or [block, price].
    public var group: [String]
    /// How many sales fall in the group.
    public var count: Int64
    /// The group's sums, in the order each report lists them (money in cents, energy in tenths of a kWh).
    public var values: [Int64]
}

/// A station report: daily takings by operator and channel, energy and money per tariff block,
/// arrears and debt recovered, and tokens per kind. Reversed sales are left out.
public struct SalesReport: Sendable {
    /// Daily takings by operator and channel.
    public var takings: [ReportRow] = []    // [day, operator, channel] → money, fee, vat, energy
    /// Energy and money per tariff block and price (block 0: free basic electricity).
    public var blocks: [ReportRow] = []     // [block, price] → tenths, cost
    /// What sales took each day toward arrears, debt and fixed charges.
    public var recovered: [ReportRow] = []  // [day] → arrears, debt, fixed charges
    /// Tokens issued per sale kind (`credit`, `engineering`, `key_change`).
    public var tokens: [ReportRow] = []     // [kind] → tokens
    /// Credit sales by the time-of-use period they were made in, for tariffs that have periods:
    /// [tariff, period] → money, energy, units (tenths). Empty when no tariff has periods.
    public var periods: [ReportRow] = []
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
                SELECT kind, COUNT(*), SUM(length(tokens) - length(replace(tokens, ' ', '')) + CASE WHEN tokens <> '' THEN 1 ELSE 0 END)
                FROM sales WHERE \(live) GROUP BY 1 ORDER BY 1
                """, arguments: [from, to]) {
                r.tokens.append(ReportRow(group: [row[0]], count: row[1], values: [row[2]]))
            }
            r.periods = try periodRows(from: from, to: to, tx)
            return r
        }
    }
}

extension Station {
    /// Sales grouped by the TOU period of their tariff version in force at the time of sale.
    func periodRows(from: Int64, to: Int64, _ tx: StoreTransaction) throws -> [ReportRow] {
        var tables: [String: TimeOfUseTable?] = [:]
        func table(_ name: String, _ version: Int64) throws -> TimeOfUseTable? {
            let key = "\(name)#\(version)"
            if let t = tables[key] { return t }
            let text = try String.fetchOne(tx.db, sql: "SELECT definition FROM tariffs WHERE name = ? AND version = ?", arguments: [name, version])
            let t = try text.flatMap { try? JSONDecoder().decode(Tariff.self, from: Data($0.utf8)) }?.timeOfUse
            tables[key] = t
            return t
        }
        guard try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM tariffs WHERE definition LIKE '%\"timeOfUse\"%'") == true else { return [] }
        var sums: [[String]: (Int64, Int64, Int64, Int64)] = [:]
        var cursor = try Row.fetchCursor(tx.db, sql: """
            SELECT created_at, money, energy, units, receipt FROM sales
            WHERE kind = 'credit' AND reversed_at IS NULL AND created_at >= ? AND created_at < ?
            """, arguments: [from, to])
        while let row = try cursor.next() {
            guard let receipt = try? JSON.parse(String(decoding: row["receipt"] as Data, as: UTF8.self)),
                  let name = receipt["tariff"]?.string, let version = receipt["tariff_version"]?.integer,
                  let t = try table(name, version) else { continue }
            let key = [name, t.period(at: row["created_at"]).name]
            var s = sums[key] ?? (0, 0, 0, 0)
            // The other sections' SQL sums fail on overflow; these do too.
            let money = s.1.addingReportingOverflow(row["money"]), energy = s.2.addingReportingOverflow(row["energy"]),
                units = s.3.addingReportingOverflow(row["units"])
            guard !money.overflow, !energy.overflow, !units.overflow else {
                throw StationError.tampered("the sales of tariff \(name) sum beyond 64 bits")
            }
            s = (s.0 + 1, money.partialValue, energy.partialValue, units.partialValue)
            sums[key] = s
        }
        return sums.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { k in
            let s = sums[k]!
            return ReportRow(group: k, count: s.0, values: [s.1, s.2, s.3])
        }
    }
}
