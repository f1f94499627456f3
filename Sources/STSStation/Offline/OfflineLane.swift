import Foundation
import GRDB
import STSAuditLog

/// A station's part in an offline lane. A lane is a local SQLite store that sells a set of
/// keypad meters for one station of a shared (PostgreSQL) store while the central database may
/// be unreachable: the central store holds those meters for it (no other station gives them a
/// TID, changes their accounts or sells them) and reserves it a block of sale numbers; the
/// station's chain goes on in the local store and is uploaded back, verified, exactly once.
enum OfflineLaneRole: Sendable, Equatable {
    /// Not part of a lane (most stations).
    case none
    /// The central copy of a station whose lane is out: its chain goes on in the lane, so it writes no entry here.
    case centralOut
    /// The lane's local store, selling.
    case local
    /// The lane's local store, returned by a supervisor: it uploads its last entries and sells no more.
    case localReturning
    /// The lane's local store after its return: closed.
    case localClosed

    /// The entries a lane's local store writes: sales and what selling needs (logins, reprints,
    /// exports, checkpoints). Everything else is done centrally, where every station sees it.
    static let localEntries: Set<AuditEntryType> = [.sale, .checkpoint, .loginFailure, .loginLockout, .export, .reprint, .offlineReturn]

    func allow(_ type: AuditEntryType, station: String) throws {
        switch self {
        case .none: return
        case .centralOut: throw StationError.refused(.stationOffline(station: station))
        case .local:
            guard Self.localEntries.contains(type) else { throw StationError.refused(.offlineLaneSellsOnly(action: "record \(type.rawValue.replacingOccurrences(of: "_", with: " "))")) }
        case .localReturning:
            // The upload of a returned lane seals its chain with an export; nothing else is written.
            guard type == .export || type == .checkpoint else { throw StationError.refused(.offlineLaneClosed) }
        case .localClosed: throw StationError.refused(.offlineLaneClosed)
        }
    }
}

/// What `stsvend station offline prepare` handed to a lane.
public struct OfflineLanePreparation: Sendable {
    /// The station whose lane it is.
    public var station: String
    /// The local store written.
    public var localPath: String
    /// The meters held for the lane.
    public var meters: [String]
    /// The sale numbers reserved for it.
    public var saleNumbers: Int
    /// The entry after which the chain goes on in the local store (the checkpoint sealing `offline_out`).
    public var forkSeq: Int64
}

extension Station {
    /// Reads this station's lane state (``OfflineLaneRole``) from its store.
    func loadOfflineLane() throws {
        let state: String? = try read { tx in
            try String.fetchOne(tx.db, sql: "SELECT state FROM offline_lanes WHERE station = ?", arguments: [stationID])
        }
        switch state {
        case "out": offlineLane = .centralOut
        case "local": offlineLane = .local
        case "returning": offlineLane = .localReturning
        case "closed": offlineLane = .localClosed
        default: offlineLane = .none
        }
    }

    /// Hands `meters` to an offline lane of this station (supervisors, with the second factor):
    /// in one central transaction the meters are held for it, `saleNumbers` sale numbers are
    /// reserved, an `offline_out` entry and its checkpoint end the station's central chain, and a
    /// snapshot of what selling those meters needs (the station's row and chain, users, the
    /// meters' keys, tariffs, customers and open accounts) is written to a new SQLite store at
    /// `localPath`, renamed into place only once the central transaction committed. The lane's
    /// key-encryption key file is a copy of `kekPath` at `localPath.kek` (0600).
    public func prepareOfflineLane(localPath: String, meters pans: [String], saleNumbers: Int, kekPath: String,
                                   by actor: Actor) throws -> OfflineLanePreparation {
        try actor.require([.supervisor], to: "prepare an offline lane", secondFactor: true)
        guard isShared else { throw StationError.refused(.stationsNeedSharedStore) }
        guard offlineLane == .none else { throw StationError.refused(.stationOffline(station: name)) }
        let meters = Array(Set(pans)).sorted()
        guard !meters.isEmpty, meters.count <= 100_000 else { throw StationError.invalid(.amount, "an offline lane holds 1 to 100 000 meters") }
        guard (1...1_000_000).contains(saleNumbers) else { throw StationError.invalid(.amount, "an offline lane reserves 1 to 1 000 000 sale numbers") }
        let localKEK = localPath + ".kek"
        for p in [localPath, localKEK, localPath + ".partial"] where FileManager.default.fileExists(atPath: p) {
            throw StationError.alreadyExists(p)
        }
        guard let kekBytes = FileManager.default.contents(atPath: kekPath) else { throw StationError.notFound("key-encryption key file \(kekPath)") }
        let partial = localPath + ".partial"
        var forkSeq: Int64 = 0
        do {
            try write { tx in
                unlink(partial)
                if try String.fetchOne(tx.db, sql: "SELECT state FROM offline_lanes WHERE station = ?", arguments: [stationID]) != nil {
                    // One lane per station, ever: a second one would fork the chain again from the same point.
                    throw StationError.alreadyExists("an offline lane of station \(name) (give a new lane a station of its own: 'stsvend station add')")
                }
                for pan in meters {
                    guard let kind = try String.fetchOne(tx.db, sql: "SELECT kind FROM meters WHERE pan = ?", arguments: [pan]) else {
                        throw StationError.notFound("meter \(pan)")
                    }
                    guard kind == MeterKind.keypad.rawValue else { throw StationError.refused(.offlineKeypadOnly(meter: pan)) }
                    if let holder = try String.fetchOne(tx.db, sql: "SELECT s.name FROM offline_meters o JOIN station s ON s.station_id = o.station WHERE o.pan = ?", arguments: [pan]) {
                        throw StationError.refused(.meterHeldOffline(meter: pan, station: holder))
                    }
                    // Written, not only read: a sale committing meanwhile at another station conflicts with this transaction.
                    try tx.db.execute(sql: "UPDATE meters SET last_tid = last_tid WHERE pan = ?", arguments: [pan])
                    try tx.db.execute(sql: "INSERT INTO offline_meters (pan, station) VALUES (?, ?)", arguments: [pan, stationID])
                }
                let ids = try Int64.fetchAll(tx.db, sql: "SELECT nextval('sales_id_seq') FROM generate_series(1, ?)", arguments: [saleNumbers])
                guard ids.count == saleNumbers else { throw StationError.store("the sale numbers could not be reserved") }
                for chunk in stride(from: 0, to: ids.count, by: 1000) {
                    let part = ids[chunk..<min(chunk + 1000, ids.count)]
                    let values = Array(repeating: "(?, ?)", count: part.count).joined(separator: ", ")
                    try tx.db.execute(sql: "INSERT INTO offline_sale_ids (id, station) VALUES " + values,
                                      arguments: part.flatMap { [$0, stationID] as SQLArguments })
                }
                try tx.log(.offlineOut, actor: actor.name) { w in
                    w.field("meters", meters)
                    w.field("sale_numbers", saleNumbers)
                }
                try tx.seal()
                forkSeq = try tx.currentHead().0
                try tx.db.execute(sql: "INSERT INTO offline_lanes (station, state, fork_seq, uploaded_seq, prepared_at, prepared_by) VALUES (?, 'out', ?, ?, ?, ?)",
                                  arguments: [stationID, forkSeq, forkSeq, tx.now, actor.name])
                try writeLocalStore(partial, meters: meters, saleIDs: ids, forkSeq: forkSeq, actor: actor.name, from: tx)
            }
        } catch {
            unlink(partial); unlink(partial + "-wal"); unlink(partial + "-shm")
            throw error
        }
        offlineLane = .centralOut
        // The central transaction committed: the lane exists, so its store takes its name.
        try PrivateFile.create(localKEK, contents: Array(kekBytes))
        guard rename(partial, localPath) == 0 else {
            throw StationError.store("the lane's store was written to \(partial) but could not be renamed to \(localPath): rename it by hand")
        }
        return OfflineLanePreparation(station: name, localPath: localPath, meters: meters, saleNumbers: saleNumbers, forkSeq: forkSeq)
    }

    /// The lane's local store: the same schema, the rows its sales need, and its lane rows naming it `local`.
    private func writeLocalStore(_ path: String, meters: [String], saleIDs: [Int64], forkSeq: Int64, actor: String, from tx: StoreTransaction) throws {
        let marks = Array(repeating: "?", count: meters.count).joined(separator: ", ")
        let pans: SQLArguments = meters
        // Table, rows: what the lane may need, no more (other stations, other meters and their sales stay central).
        var tables: [(String, [Row])] = []
        func take(_ table: String, _ sql: String, _ args: SQLArguments = []) throws { tables.append((table, try Row.fetchAll(tx.db, sql: sql, arguments: args))) }
        try take("station", "SELECT * FROM station WHERE station_id = ?", [stationID])
        try take("users", "SELECT * FROM users")
        try take("vending_keys", "SELECT * FROM vending_keys WHERE name IN (SELECT key_name FROM meters WHERE pan IN (\(marks)))", pans)
        try take("tariffs", "SELECT * FROM tariffs WHERE name IN (SELECT tariff FROM meters WHERE pan IN (\(marks)))", pans)
        try take("customers", "SELECT * FROM customers WHERE id IN (SELECT customer_id FROM accounts WHERE closed_at IS NULL AND meter_pan IN (\(marks)))", pans)
        try take("meters", "SELECT * FROM meters WHERE pan IN (\(marks))", pans)
        try take("accounts", "SELECT * FROM accounts WHERE closed_at IS NULL AND meter_pan IN (\(marks))", pans)
        try take("log", "SELECT station, seq, line, hash FROM log WHERE station = ? ORDER BY seq", [stationID])
        let queue = try Station.connect(path)
        try Station.migrate(queue)
        do {
            try queue.write { db in
                let local = SQLiteStoreDB(db)
                for (table, rows) in tables {
                    for r in rows {
                        var values = r.values
                        // The local station table holds one row, id 1.
                        if table == "station", let i = r.columns.firstIndex(of: "id") { values[i] = .int(1) }
                        let sql = "INSERT INTO \(table) (\(r.columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))"
                        _ = try local.run(sql, values)
                    }
                }
                _ = try local.run("INSERT INTO offline_lanes (station, state, fork_seq, uploaded_seq, prepared_at, prepared_by) VALUES (?, 'local', ?, ?, ?, ?)",
                                  [.text(stationID), .int(forkSeq), .int(forkSeq), .int(tx.now), .text(actor)])
                for pan in meters { _ = try local.run("INSERT INTO offline_meters (pan, station) VALUES (?, ?)", [.text(pan), .text(stationID)]) }
                for id in saleIDs { _ = try local.run("INSERT INTO offline_sale_ids (id, station) VALUES (?, ?)", [.int(id), .text(stationID)]) }
            }
        } catch let e as StationError { throw e } catch {
            throw StationError.store("the lane's store \(path) could not be written: \(StoreFailure.describe(error))")
        }
        try queue.close()
        Station.tightenModes(path)
    }
}

extension StoreTransaction {
    /// The next sale number of an offline lane: the lowest of its reserved block not yet used.
    func nextOfflineSaleID() throws -> Int64 {
        guard let id = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM offline_sale_ids WHERE used = 0") else {
            let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM offline_sale_ids") ?? 0
            throw StationError.refused(.offlineSaleNumbersUsed(reserved: n))
        }
        try db.execute(sql: "UPDATE offline_sale_ids SET used = 1 WHERE id = ?", arguments: [id])
        return id
    }

    /// A change to a meter (or its account) found no row to change: another station's lane holds it, or it is gone.
    func refuseHeldMeter(pan: String? = nil, accountID: Int64? = nil) throws -> Never {
        let meter = try pan ?? String.fetchOne(db, sql: "SELECT meter_pan FROM accounts WHERE id = ?", arguments: [accountID]) ?? "?"
        if let holder = try String.fetchOne(db, sql: "SELECT s.name FROM offline_meters o JOIN station s ON s.station_id = o.station WHERE o.pan = ?", arguments: [meter]) {
            throw StationError.refused(.meterHeldOffline(meter: meter, station: holder))
        }
        throw StationError.notFound(accountID.map { "account \($0)" } ?? "meter \(meter)")
    }
}
