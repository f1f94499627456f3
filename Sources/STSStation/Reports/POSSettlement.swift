import STSBatch
import STSSupport
import STSTariff

/// What point-of-sale clients owe the utility for a period, by client, merchant or terminal:
/// what each settles against its own records. Reversed purchases are counted apart.
public struct POSSettlement: Sendable {
    /// How rows are grouped.
    public enum Grouping: String, Sendable, CaseIterable {
        /// One row per client.
        case client
        /// One row per client, originating institution and merchant.
        case merchant
        /// One row per client, institution, merchant and terminal.
        case terminal
    }

    /// One group's figures.
    public struct Row: Sendable, Equatable {
        /// The client, and (by grouping) the institution, merchant and terminal ids.
        public var client: String, institution: String, merchant: String, terminal: String
        /// Purchases (not reversed), their money, the energy part, VAT, fees and debt taken, and tokens.
        public var purchases: Int64, money: Int64, energy: Int64, vat: Int64, fees: Int64, recovered: Int64, tokens: Int64
        /// Purchases reversed, and their money (not owed).
        public var reversed: Int64, reversedMoney: Int64
        /// Purchases the point of sale confirmed.
        public var confirmed: Int64
    }

    /// The grouping and the period (Unix seconds, `to` excluded).
    public let grouping: Grouping, from: Int64, to: Int64
    /// The rows, in order of their group.
    public let rows: [Row]

    static let columns = ["client", "institution", "merchant", "terminal", "purchases", "money", "energy", "vat", "fees", "recovered",
                          "tokens", "confirmed", "reversed", "reversed_money"]

    func cells(_ r: Row) -> [String] {
        let m = { (c: Int64) in Money(cents: c).description }
        return [r.client, r.institution, r.merchant, r.terminal, "\(r.purchases)", m(r.money), m(r.energy), m(r.vat), m(r.fees), m(r.recovered),
                "\(r.tokens)", "\(r.confirmed)", "\(r.reversed)", m(r.reversedMoney)]
    }

    /// A header line of the columns, then one line per row, cells separated by ` | `.
    public func text() -> String {
        var out = "settlement by \(grouping.rawValue): " + Self.columns.joined(separator: " | ") + "\n"
        for r in rows { out += "  " + cells(r).joined(separator: " | ") + "\n" }
        return out
    }

    /// RFC 4180: the columns, then one line per row (ids the clients sent are cells of text).
    public func csv() -> String {
        var out = CSVCell.row(Self.columns) + "\n"
        for r in rows {
            let c = cells(r)
            out += CSVCell.row(c.enumerated().map { $0.offset < 4 ? CSVCell.text($0.element) : CSVCell.quoted($0.element) }) + "\n"
        }
        return out
    }

    /// `{"grouping", "from", "to", "rows": [{column: value}]}`, money as decimal text.
    public func json() -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        w.field("grouping", grouping.rawValue)
        w.field("from", Int(from))
        w.field("to", Int(to))
        w.array("rows") { a in
            for r in rows {
                a.element { e in
                    for (k, v) in zip(Self.columns, cells(r)) {
                        if ["purchases", "tokens", "confirmed", "reversed"].contains(k), let n = Int(v) { e.field(k, n) } else { e.field(k, v) }
                    }
                }
            }
        }
        w.end()
        return w.bytes
    }
}

extension Station {
    /// Point-of-sale purchases sold in [`from`, `to`) grouped by client, merchant or terminal.
    public func posSettlement(from: Int64, to: Int64, by grouping: POSSettlement.Grouping) throws -> POSSettlement {
        let keys: [String] = switch grouping {
        case .client: ["p.client"]
        case .merchant: ["p.client", "p.institution", "p.merchant"]
        case .terminal: ["p.client", "p.institution", "p.merchant", "p.terminal"]
        }
        let padded = keys + Array(repeating: "''", count: 4 - keys.count)
        let rows = try read { tx in
            try Row.fetchAll(tx.db, sql: """
                SELECT \(padded.joined(separator: ", ")),
                    CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN s.money ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN s.energy ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN s.vat ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN s.fee + s.fixed ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN s.arrears + s.debt ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN s.reversed_at IS NULL AND s.tokens <> '' THEN LENGTH(s.tokens) - LENGTH(REPLACE(s.tokens, ' ', '')) + 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN p.state = 'confirmed' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN 0 ELSE 1 END) AS BIGINT), CAST(SUM(CASE WHEN s.reversed_at IS NULL THEN 0 ELSE s.money END) AS BIGINT)
                FROM pos_messages p JOIN sales s ON s.id = p.sale_id
                WHERE p.kind = 'purchase' AND s.created_at >= ? AND s.created_at < ?
                GROUP BY \(keys.joined(separator: ", ")) ORDER BY \(keys.joined(separator: ", "))
                """, arguments: [from, to])
        }
        return POSSettlement(grouping: grouping, from: from, to: to, rows: rows.map { r in
            POSSettlement.Row(client: r[0], institution: r[1], merchant: r[2], terminal: r[3], purchases: r[4], money: r[5], energy: r[6],
                              vat: r[7], fees: r[8], recovered: r[9], tokens: r[10], reversed: r[12], reversedMoney: r[13], confirmed: r[11])
        })
    }
}
