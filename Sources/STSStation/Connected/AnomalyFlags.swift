import Foundation

/// Something in a connected meter's readings that a supervisor should look at, with the time
/// it starts (the console links to the readings and events behind it).
public struct AnomalyFlag: Sendable, Equatable {
    /// `tamper`, `magnetic`, `energy-without-credit`, `consumption-collapse`, `register-backwards`.
    public var kind: String
    public var time: Int64
    public var detail: String
}

/// A connected meter as the console and `GET /meters/{pan}/readings` show it.
public struct ConnectedMeterView: Sendable {
    public var pan: String
    public var connected: Bool
    public var latest: StoredReading?
    /// Energy per hour (start, Wh) from the load profile.
    public var hourly: [(Int64, Int64)]
    /// Events, newest first.
    public var events: [(time: Int64, code: Int64, name: String)]
    public var flags: [AnomalyFlag]
}

extension Station {
    /// The names of the event codes the simulator's event log uses (Specs/dlms.md).
    public static let meterEventNames: [Int64: String] = [
        1: "power failure", 2: "power restored", 40: "terminal cover opened", 44: "strong magnetic field", 45: "tamper detected",
        46: "tamper cleared", 59: "relay opened", 60: "relay closed", 61: "remote disconnect", 62: "remote reconnect",
        70: "low credit", 71: "token entered", 72: "key changed", 73: "card inserted",
    ]

    /// Readings, hourly consumption, events and anomaly flags of `pan` over the last `days`.
    public func connectedMeterView(_ pan: String, days: Int64) throws -> ConnectedMeterView {
        let since = now() - days * 86_400
        let connected = try isConnected(pan)
        let hourly = try consumption(pan, since: since, bucket: 3600).map { ($0.start, $0.wh) }
        let events = try meterEvents(pan, limit: 200).filter { $0.time >= since }.map { (time: $0.time, code: $0.code, name: Self.meterEventNames[$0.code] ?? "event \($0.code)") }
        let (readings, profile) = try read { tx in
            (try Row.fetchAll(tx.db, sql: "SELECT * FROM readings WHERE pan = ? AND time >= ? ORDER BY time", arguments: [pan, since]).map {
                StoredReading(time: $0["time"], energyWh: $0["energy_wh"], powerW: $0["power_w"], credit: $0["credit"], relayClosed: $0["relay_closed"])
            },
             try Row.fetchAll(tx.db, sql: "SELECT time, energy_wh FROM load_profile WHERE pan = ? AND time >= ? ORDER BY time", arguments: [pan, since])
                .map { ($0["time"] as Int64, $0["energy_wh"] as Int64) })
        }
        return ConnectedMeterView(pan: pan, connected: connected, latest: readings.last, hourly: hourly, events: events,
                                  flags: Self.anomalies(readings: readings, profile: profile, events: events.map { ($0.time, $0.code) }))
    }

    /// The rules behind the flags (each a pure function of the stored data, tested on its own).
    public static func anomalies(readings: [StoredReading], profile: [(Int64, Int64)], events: [(Int64, Int64)]) -> [AnomalyFlag] {
        var flags: [AnomalyFlag] = []
        if let t = events.filter({ [40, 45].contains($0.1) }).map(\.0).min() {
            flags.append(AnomalyFlag(kind: "tamper", time: t, detail: "tamper or cover-open events"))
        }
        if let t = events.filter({ $0.1 == 44 }).map(\.0).min() {
            flags.append(AnomalyFlag(kind: "magnetic", time: t, detail: "strong magnetic field detected"))
        }
        if let r = readings.first(where: { $0.credit <= 0 && $0.powerW > 0 }) {
            flags.append(AnomalyFlag(kind: "energy-without-credit", time: r.time, detail: "\(r.powerW) W drawn with no credit left"))
        }
        for (prev, cur) in zip(readings, readings.dropFirst()) where cur.energyWh < prev.energyWh {
            flags.append(AnomalyFlag(kind: "register-backwards", time: cur.time, detail: "energy register fell from \(prev.energyWh) to \(cur.energyWh) Wh"))
            break
        }
        if !flags.contains(where: { $0.kind == "register-backwards" }) {
            for (prev, cur) in zip(profile, profile.dropFirst()) where cur.1 < prev.1 {
                flags.append(AnomalyFlag(kind: "register-backwards", time: cur.0, detail: "load profile fell from \(prev.1) to \(cur.1) Wh"))
                break
            }
        }
        // Possible bypass: the last day used under a fifth of the days before it while the relay was closed with credit.
        if let last = profile.last, let first = profile.first, last.0 - first.0 >= 3 * 86_400,
           let dayAgo = profile.last(where: { $0.0 <= last.0 - 86_400 }),
           let latest = readings.last, latest.relayClosed, latest.credit > 0 {
            let lastDay = last.1 - dayAgo.1
            let before = Double(dayAgo.1 - first.1) / Double(max(1, dayAgo.0 - first.0)) * 86_400
            if before > 1000, Double(lastDay) < before / 5 {
                flags.append(AnomalyFlag(kind: "consumption-collapse", time: dayAgo.0,
                                         detail: "\(lastDay) Wh in the last day against \(Int(before)) Wh a day before, relay closed with credit (possible bypass)"))
            }
        }
        return flags
    }
}
