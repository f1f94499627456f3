import Foundation
import STSTariff

/// One stored reading of a connected meter.
public struct StoredReading: Sendable, Equatable {
    public var time: Int64
    public var energyWh: Int64
    public var powerW: Int64
    public var credit: Int64
    public var relayClosed: Bool
    public init(time: Int64, energyWh: Int64, powerW: Int64, credit: Int64, relayClosed: Bool) {
        self.time = time; self.energyWh = energyWh; self.powerW = powerW; self.credit = credit; self.relayClosed = relayClosed
    }
}

extension Station {
    /// Stores one round of readings (registers, new load-profile captures, new events) per meter
    /// in one transaction.
    public func recordReadings(_ round: [(pan: String, reading: StoredReading, profile: [(Int64, Int64)], events: [(Int64, Int64)])],
                               channels: [String] = []) throws {
        guard !round.isEmpty else { return }
        try write { tx in
            let previous = try tx.db.cachedStatement(sql: "SELECT credit, relay_closed FROM readings WHERE pan = ? ORDER BY time DESC LIMIT 1")
            let threshold = try tx.db.cachedStatement(sql: "SELECT low_credit_tenths FROM meter_links WHERE pan = ?")
            let reading = try tx.db.cachedStatement(sql: """
                INSERT INTO readings (pan, time, energy_wh, power_w, credit, relay_closed) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (pan, time) DO UPDATE SET energy_wh = excluded.energy_wh, power_w = excluded.power_w,
                    credit = excluded.credit, relay_closed = excluded.relay_closed
                """)
            let profile = try tx.db.cachedStatement(sql: "INSERT OR IGNORE INTO load_profile (pan, time, energy_wh) VALUES (?, ?, ?)")
            let event = try tx.db.cachedStatement(sql: "INSERT OR IGNORE INTO meter_events (pan, time, code) VALUES (?, ?, ?)")
            // Touching the meter's link row makes two stations' rounds on one meter conflict (on
            // PostgreSQL the later is run again and sees the earlier's reading), so an alert that
            // compares with the previous reading is raised once, not once per station.
            let claim = try tx.db.cachedStatement(sql: "UPDATE meter_links SET counter = counter WHERE pan = ?")
            for m in round {
                let r = m.reading
                try claim.execute(arguments: [m.pan])
                let before = try Row.fetchOne(previous, arguments: [m.pan])
                let low = try Int64.fetchOne(threshold, arguments: [m.pan]) ?? 50
                try reading.execute(arguments: [m.pan, r.time, r.energyWh, r.powerW, r.credit, r.relayClosed])
                for (t, wh) in m.profile { try profile.execute(arguments: [m.pan, t, wh]) }
                var newTamper: [(Int64, Int64)] = []
                for (t, c) in m.events {
                    try event.execute(arguments: [m.pan, t, c])
                    if tx.db.changesCount > 0, [40, 44, 45].contains(c) { newTamper.append((t, c)) }
                }
                // Alerts fire on the change, not on every round: credit falling to the threshold,
                // the relay opening at zero credit, a tamper-class event not seen before.
                let wasCredit: Int64? = before?["credit"], wasClosed: Bool? = before?["relay_closed"]
                if r.credit > 0, r.credit <= low, (wasCredit ?? Int64.max) > low {
                    try tx.alert(m.pan, "low-credit", r.time, "credit \(EnergyAmount.text(tenths: r.credit)) at or below \(EnergyAmount.text(tenths: low))", channels)
                }
                if !r.relayClosed, r.credit <= 0, wasClosed ?? true {
                    try tx.alert(m.pan, "relay-open-no-credit", r.time, "supply cut: no credit left", channels)
                }
                for (t, c) in newTamper {
                    try tx.alert(m.pan, "tamper", t, Self.meterEventNames[c] ?? "event \(c)", channels)
                }
            }
        }
    }

    /// The latest stored reading of a meter.
    public func latestReading(_ pan: String) throws -> StoredReading? {
        try read { tx in
            try Row.fetchOne(tx.db, sql: "SELECT * FROM readings WHERE pan = ? ORDER BY time DESC LIMIT 1", arguments: [pan]).map {
                StoredReading(time: $0["time"], energyWh: $0["energy_wh"], powerW: $0["power_w"], credit: $0["credit"], relayClosed: $0["relay_closed"])
            }
        }
    }

    /// The time of the newest stored load-profile capture of a meter.
    public func lastProfileTime(_ pan: String) throws -> Int64? {
        try read { tx in try Int64.fetchOne(tx.db, sql: "SELECT MAX(time) FROM load_profile WHERE pan = ?", arguments: [pan]) }
    }

    /// Energy per `bucket` seconds from the load profile (the difference of cumulative captures).
    public func consumption(_ pan: String, since: Int64, bucket: Int64) throws -> [(start: Int64, wh: Int64)] {
        let rows = try read { tx in
            try Row.fetchAll(tx.db, sql: "SELECT time, energy_wh FROM load_profile WHERE pan = ? AND time >= ? ORDER BY time",
                             arguments: [pan, since]).map { ($0["time"] as Int64, $0["energy_wh"] as Int64) }
        }
        var out: [(Int64, Int64)] = []
        let step = max(900, bucket)
        for (prev, cur) in zip(rows, rows.dropFirst()) {
            let start = cur.0 - (cur.0 - 1) % step - 1
            // Stored values came from meters: differences and sums saturate instead of trapping.
            let d = cur.1.subtractingReportingOverflow(prev.1)
            let wh = d.overflow ? 0 : max(0, d.partialValue)
            if let last = out.last, last.0 == start {
                let sum = out[out.count - 1].1.addingReportingOverflow(wh)
                out[out.count - 1].1 = sum.overflow ? Int64.max : sum.partialValue
            } else { out.append((start, wh)) }
        }
        return out
    }

    /// Stored events of a meter, newest first: (time, code).
    public func meterEvents(_ pan: String, limit: Int = 100) throws -> [(time: Int64, code: Int64)] {
        try read { tx in
            try Row.fetchAll(tx.db, sql: "SELECT time, code FROM meter_events WHERE pan = ? ORDER BY time DESC LIMIT ?",
                             arguments: [pan, max(1, min(limit, 1000))]).map { ($0["time"] as Int64, $0["code"] as Int64) }
        }
    }
}

extension StoreTransaction {
    func alert(_ pan: String, _ kind: String, _ time: Int64, _ detail: String, _ channels: [String]) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO alerts (pan, kind, time, detail) VALUES (?, ?, ?, ?)", arguments: [pan, kind, time, detail])
        guard db.changesCount > 0 else { return }
        let id = try db.lastInsertedRowID
        for c in channels {
            try db.execute(sql: "INSERT INTO notifications (alert_id, channel, state, next_attempt_at) VALUES (?, ?, 'pending', ?)", arguments: [id, c, now])
        }
    }
}
