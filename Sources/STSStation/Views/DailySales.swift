import Foundation

/// Credit sales of one day through one channel: what the console's charts draw.
public struct DailySales: Sendable, Equatable {
    /// The UTC day, "2026-12-01".
    public var day: String
    /// The sales channel.
    public var channel: String
    /// How many credit sales (reversed ones left out).
    public var count: Int64
    /// Money taken, cents.
    public var moneyCents: Int64
    /// Energy sold, tenths of a kWh.
    public var unitsTenths: Int64
}

extension Station {
    /// Credit sales per UTC day and channel from `from` up to (not including) `to` (Unix seconds),
    /// reversed sales left out, oldest day first.
    public func dailySales(from: Int64, to: Int64) throws -> [DailySales] {
        try read { tx in
            let day = tx.db.dialect == .postgres ? "to_char(to_timestamp(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')" : "date(created_at, 'unixepoch')"
            return try Row.fetchAll(tx.db, sql: """
                SELECT \(day) AS day, channel, COUNT(*) AS n, SUM(money) AS money, SUM(units) AS units
                FROM sales WHERE kind = 'credit' AND reversed_at IS NULL AND created_at >= ? AND created_at < ?
                GROUP BY day, channel ORDER BY day, channel
                """, arguments: [from, to]).map { r in
                DailySales(day: r["day"], channel: r["channel"], count: r["n"], moneyCents: r["money"], unitsTenths: r["units"])
            }
        }
    }
}
