import Foundation
import STSAuditLog
import STSTokenFormat

/// One sale on a dispute statement: its receipt exactly as signed, and the log entry that proves it.
public struct StatementLine: Sendable {
    /// The sale as the meter page lists it.
    public var sale: SaleLine
    /// The receipt (itemised deductions, blocks, tokens, TIDs), proven against the log.
    public var receipt: SaleReceipt
    /// The log entry recording the sale: its sequence number and its SHA-256 hash (64 hex digits).
    public var logSeq: Int64, logHash: String
}

/// Every sale on a meter, for settling a dispute from the records.
public struct CustomerStatement: Sendable {
    /// The meter and its open account now.
    public var overview: MeterOverview
    /// Every sale on the meter, oldest first, each proven against the signed log.
    public var lines: [StatementLine]
}

extension Station {
    /// A dispute statement: every sale on the meter (oldest first, at most `limit`), each receipt
    /// proven against the signed log exactly as a reprint is (a row edited in the database is
    /// refused, not printed), with the hash of its log entry an auditor finds in the exported log.
    public func statement(meter pan: MeterPAN, limit: Int = 10_000) throws -> CustomerStatement {
        let overview = try meterOverview(pan, sales: 1)
        return try read { tx in
            let rows = try Row.fetchAll(tx.db, sql: "SELECT * FROM sales WHERE meter_pan = ? ORDER BY id LIMIT ?",
                                        arguments: [pan.description, max(1, min(limit, 100_000))])
            var lines: [StatementLine] = []
            lines.reserveCapacity(rows.count)
            for r in rows {
                let proven = try tx.provenSale(r)
                let line = SaleLine(sale: r["id"], kind: r["kind"], time: r["created_at"], moneyCents: r["money"], unitsTenths: r["units"],
                                    tid: r["tid"], operatorName: r["operator"], channel: r["channel"],
                                    reversed: (r["reversed_at"] as Int64?) != nil, logSeq: proven.seq)
                lines.append(StatementLine(sale: line, receipt: proven.receipt, logSeq: proven.seq, logHash: proven.hash.description))
            }
            return CustomerStatement(overview: overview, lines: lines)
        }
    }
}
