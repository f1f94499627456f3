import Foundation
import STSTariff
import STSTokenFormat

/// A meter as a search result: enough to pick the right customer at the counter.
public struct MeterSummary: Sendable, Equatable {
    /// The meter's PAN (18 digits).
    public var pan: String
    /// The customer on the meter's open account.
    public var customer: String
    /// Keypad or card meter.
    public var kind: MeterKind
    /// Energy or currency credit.
    public var credit: MeterCredit
    /// The tariff its sales are priced by.
    public var tariff: String
    /// Where the meter is installed (empty when not recorded).
    public var address: String
}

/// One earlier sale as the meter page lists it.
public struct SaleLine: Sendable, Equatable {
    /// The sale id (what reprints and reversals name).
    public var sale: Int64
    /// `credit`, `engineering` or `key-change`.
    public var kind: String
    /// When it was sold (Unix seconds).
    public var time: Int64
    /// Money paid, in cents (0 for tokens that were not sold).
    public var moneyCents: Int64
    /// Energy the credit token carries, tenths of a kWh.
    public var unitsTenths: Int64
    /// The credit token's TID, when there is one.
    public var tid: Int64?
    /// Who sold it, and through which channel.
    public var operatorName: String, channel: String
    /// Whether a supervisor reversed it in the books.
    public var reversed: Bool
    /// The log entry that records it (its sequence number), once the sale is logged.
    public var logSeq: Int64?
}

/// A meter's page: the meter, its open account and its latest sales.
public struct MeterOverview: Sendable {
    /// The meter.
    public var meter: MeterSummary
    /// The open account's id.
    public var account: Int64
    /// What the account owes and carries (arrears, debt, fixed charges, carried credit, this month's use).
    public var position: AccountPosition
    /// The latest sales, newest first.
    public var sales: [SaleLine]
}

extension Station {
    /// Meters whose PAN starts with `query` (digits), whose PAN is the meter number `query` (the
    /// 11- or 13-digit DRN printed on the meter), or whose customer's name or address contains it
    /// (ASCII case ignored); at most `limit`, by PAN. An empty query lists the first meters.
    public func findMeters(query: String, limit: Int = 50) throws -> [MeterSummary] {
        let needle = String(query.trimmingCharacters(in: .whitespaces).prefix(64))
        let bounded = max(1, min(limit, 500))
        return try read { tx in
            // LIKE's wildcards in the query are matched literally.
            let escaped = needle.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            let rows = try Row.fetchAll(tx.db, sql: """
                SELECT m.pan, m.kind, m.credit, m.tariff, m.address, c.name AS customer FROM meters m
                JOIN accounts a ON a.meter_pan = m.pan AND a.closed_at IS NULL JOIN customers c ON c.id = a.customer_id
                WHERE m.pan LIKE ?1 ESCAPE '\\' OR c.name LIKE ?2 ESCAPE '\\' OR m.address LIKE ?2 ESCAPE '\\' OR m.pan = ?3
                ORDER BY m.pan LIMIT ?4
                """, arguments: [escaped + "%", "%" + escaped + "%", (try? MeterPAN(meterNumber: needle))?.description ?? "", bounded])
            return rows.map(Self.summary)
        }
    }

    /// The meter's page: its account's figures and its latest `sales` sales (newest first).
    public func meterOverview(_ pan: MeterPAN, sales limit: Int = 20) throws -> MeterOverview {
        try read { tx in
            guard let row = try Row.fetchOne(tx.db, sql: """
                SELECT m.pan, m.kind, m.credit, m.tariff, m.address, c.name AS customer FROM meters m
                JOIN accounts a ON a.meter_pan = m.pan AND a.closed_at IS NULL JOIN customers c ON c.id = a.customer_id
                WHERE m.pan = ?
                """, arguments: [pan.description]) else { throw StationError.notFound("meter \(pan)") }
            let account = try tx.openAccount(meter: pan.description)
            let lines = try Self.saleLines(tx, pan: pan.description, limit: max(1, min(limit, 1_000)))
            return MeterOverview(meter: Self.summary(row), account: account.id, position: account.position, sales: lines)
        }
    }

    static func summary(_ r: Row) -> MeterSummary {
        MeterSummary(pan: r["pan"], customer: r["customer"], kind: MeterKind(rawValue: r["kind"]) ?? .keypad,
                     credit: MeterCredit(rawValue: r["credit"]) ?? .energy, tariff: r["tariff"], address: r["address"])
    }

    static func saleLines(_ tx: StoreTransaction, pan: String, limit: Int) throws -> [SaleLine] {
        try Row.fetchAll(tx.db, sql: """
            SELECT id, kind, created_at, money, units, tid, operator, channel, reversed_at, log_seq FROM sales
            WHERE meter_pan = ? ORDER BY id DESC LIMIT ?
            """, arguments: [pan, limit]).map { r in
            SaleLine(sale: r["id"], kind: r["kind"], time: r["created_at"], moneyCents: r["money"], unitsTenths: r["units"],
                     tid: r["tid"], operatorName: r["operator"], channel: r["channel"], reversed: (r["reversed_at"] as Int64?) != nil,
                     logSeq: r["log_seq"])
        }
    }
}
