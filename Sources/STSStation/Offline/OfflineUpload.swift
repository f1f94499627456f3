import Crypto
import Foundation
import STSAuditLog
import STSSupport

/// What one upload of an offline lane's chain did.
public struct OfflineUploadSummary: Sendable {
    /// The station whose lane it is.
    public var station: String
    /// Log entries the central store took in this upload (0: they were all there already).
    public var entries: Int
    /// Sales the central store took in this upload.
    public var sales: Int
    /// The lane's chain head, now the station's central head (hex).
    public var head: String
    /// True once the lane is returned: its meters are sold centrally again and its store is closed.
    public var returned: Bool
}

/// What the central store needs of a lane's local store for one upload, read in one snapshot.
private struct LaneSnapshot {
    var lines: [(seq: Int64, line: Data, hash: Data)] = []
    var sales: [Row] = []
    var blocks: [Row] = []
    var meters: [Row] = []
    var accounts: [Row] = []
    var checkpoint: (seq: Int64, time: Int64) = (0, 0)
}

extension Station {
    /// Uploads this offline lane's chain to the central store (`central`: the same station opened
    /// on its PostgreSQL database): the chain, sealed here by an export entry and its checkpoint,
    /// must verify under the station's public key as the central store knows it and extend the
    /// station's central chain; then its new entries, sales, the meters' last TIDs and the
    /// accounts' balances are stored in one central transaction. Entries the central store holds
    /// already are compared, not stored again, so an upload repeated is a no-op. With `returning`
    /// (a supervisor, with the second factor) the lane ends: an `offline_return` entry closes its
    /// chain, and once uploaded the meters are released and the unused sale numbers dropped.
    public func uploadOfflineLane(to central: Station, returning: Bool, by actor: Actor) throws -> OfflineUploadSummary {
        if returning { try actor.require([.supervisor], to: "return an offline lane", secondFactor: true) } else { try actor.require(sellers, to: "upload an offline lane") }
        guard [.local, .localReturning, .localClosed].contains(offlineLane) else {
            throw StationError.invalid(.database, "\(path) is not an offline lane's local store")
        }
        guard central.isShared, central.stationID == stationID else {
            throw StationError.invalid(.database, "the central database holds no station \(name) with this lane's id")
        }
        if returning, offlineLane == .local {
            try write { tx in
                try tx.log(.offlineReturn, actor: actor.name) { w in
                    w.field("sales", (try? Int.fetchOne(tx.db, sql: "SELECT COUNT(*) FROM offline_sale_ids WHERE used = 1")) ?? 0)
                }
                try tx.db.execute(sql: "UPDATE offline_lanes SET state = 'returning' WHERE station = ?", arguments: [stationID])
                tx.forceSeal = true
            }
            offlineLane = .localReturning
        }
        // The chain ends in an export and its checkpoint, as an auditor's export does (unless nothing was added since the last upload).
        if offlineLane != .localClosed {
            try write { tx in
                let uploaded = try Int64.fetchOne(tx.db, sql: "SELECT uploaded_seq FROM offline_lanes WHERE station = ?", arguments: [stationID]) ?? 0
                let (seq, _) = try tx.currentHead()
                guard seq != uploaded else { return }
                try tx.log(.export, actor: actor.name) { w in w.field("through", Int(seq)); w.field("to", "central") }
                try tx.seal()
            }
        }
        let lane = try read { tx in try snapshot(tx) }
        guard let last = lane.lines.last else { throw StationError.refused(.offlineChainRefused("the lane's store holds no chain")) }
        var bytes: [UInt8] = []
        for l in lane.lines { bytes.append(contentsOf: l.line); bytes.append(10) }
        // The key the central store knows for this station, never the one the lane's file holds.
        let report = AuditVerifier(publicKey: central.publicKey, sharedAccounts: true).verify(bytes)
        if let p = report.problems.first {
            throw StationError.refused(.offlineChainRefused("its chain does not verify (line \(p.line): \(p.message))"))
        }
        let isReturn = offlineLane != .local
        let summary: OfflineUploadSummary = try central.write { tx in
            try Self.accept(lane, last: last, returning: isReturn, into: tx, station: self)
        }
        try write { tx in
            try tx.db.execute(sql: "UPDATE offline_lanes SET uploaded_seq = ?, uploaded_at = ?, state = ? WHERE station = ?",
                              arguments: [last.seq, tx.now, isReturn ? "closed" : "local", stationID])
        }
        if isReturn {
            offlineLane = .localClosed
            central.offlineLane = .none
        }
        return summary
    }

    private func snapshot(_ tx: StoreTransaction) throws -> LaneSnapshot {
        var s = LaneSnapshot()
        for r in try Row.fetchAll(tx.db, sql: "SELECT seq, line, hash FROM log WHERE station = ? ORDER BY seq", arguments: [stationID]) {
            s.lines.append((r[0], r[1], r[2]))
        }
        let uploaded = try Int64.fetchOne(tx.db, sql: "SELECT fork_seq FROM offline_lanes WHERE station = ?", arguments: [stationID]) ?? 0
        s.sales = try Row.fetchAll(tx.db, sql: "SELECT * FROM sales WHERE log_seq > ? ORDER BY log_seq", arguments: [uploaded])
        s.blocks = try Row.fetchAll(tx.db, sql: "SELECT * FROM sale_blocks WHERE sale_id IN (SELECT id FROM sales WHERE log_seq > ?)", arguments: [uploaded])
        s.meters = try Row.fetchAll(tx.db, sql: "SELECT pan, last_tid, last_tid_base_date FROM meters")
        s.accounts = try Row.fetchAll(tx.db, sql: """
            SELECT id, meter_pan, arrears, debt, fixed_due, month, month_purchased, month_free, carried FROM accounts
            """)
        if let r = try Row.fetchOne(tx.db, sql: "SELECT checkpoint_seq, checkpoint_time FROM station") { s.checkpoint = (r[0], r[1]) }
        return s
    }

    /// The central half of an upload, inside one central transaction (run again from the start on a conflict).
    private static func accept(_ lane: LaneSnapshot, last: (seq: Int64, line: Data, hash: Data), returning: Bool,
                               into tx: StoreTransaction, station: Station) throws -> OfflineUploadSummary {
        let id = station.stationID
        func refuse(_ why: String) -> StationError { .refused(.offlineChainRefused(why)) }
        guard let state = try String.fetchOne(tx.db, sql: "SELECT state FROM offline_lanes WHERE station = ?", arguments: [id]) else {
            throw refuse("the central store has no offline lane of station \(station.name)")
        }
        let (centralSeq, centralHash) = try tx.currentHead()
        guard centralSeq <= last.seq else {
            throw refuse("the station's central chain (entry \(centralSeq)) is ahead of this store's (entry \(last.seq)): this is an old copy of the lane")
        }
        guard let same = lane.lines.first(where: { $0.seq == centralSeq }), Array(same.hash) == centralHash else {
            throw refuse("the lane's chain does not continue the station's central chain at entry \(centralSeq)")
        }
        var summary = OfflineUploadSummary(station: station.name, entries: 0, sales: 0, head: Hex.string(last.hash), returned: state == "returned")
        if state == "returned" {
            guard centralSeq == last.seq else { throw refuse("the lane was returned already; entries after its return are not taken") }
            return summary
        }
        guard state == "out" else { throw refuse("the central store's lane of station \(station.name) is in state \(state)") }
        let fresh = lane.lines.filter { $0.seq > centralSeq }
        var taken = Set<Int64>()
        for l in fresh {
            try tx.db.execute(sql: "INSERT INTO log (station, seq, line, hash) VALUES (?, ?, ?, ?)", arguments: [id, l.seq, l.line, l.hash])
        }
        for r in lane.sales where (r["log_seq"] as Int64? ?? 0) > centralSeq {
            let saleID: Int64 = r["id"], requestID: String = r["request_id"], pan: String = r["meter_pan"]
            guard try Int64.fetchOne(tx.db, sql: "SELECT id FROM offline_sale_ids WHERE id = ? AND station = ? AND used = 0", arguments: [saleID, id]) != nil else {
                throw refuse("sale \(saleID) does not carry a sale number reserved for this lane")
            }
            if try Int64.fetchOne(tx.db, sql: "SELECT id FROM sales WHERE request_id = ?", arguments: [requestID]) != nil {
                throw refuse("request id \(requestID) of sale \(saleID) was used centrally meanwhile; settle it by hand before uploading")
            }
            if let tid = r["tid"] as Int64?,
               try Int64.fetchOne(tx.db, sql: "SELECT id FROM sales WHERE meter_pan = ? AND tid = ?", arguments: [pan, tid]) != nil {
                throw refuse("sale \(saleID) gave meter \(pan) TID \(tid), which it already has")
            }
            guard try String.fetchOne(tx.db, sql: "SELECT station FROM offline_meters WHERE pan = ?", arguments: [pan]) == id else {
                throw refuse("sale \(saleID) is for meter \(pan), which is not held for this lane")
            }
            let marks = Array(repeating: "?", count: r.columns.count).joined(separator: ", ")
            _ = try tx.db.run("INSERT INTO sales (\(r.columns.joined(separator: ", "))) VALUES (\(marks))", r.values)
            try tx.db.execute(sql: "UPDATE offline_sale_ids SET used = 1 WHERE id = ?", arguments: [saleID])
            // The row must be the receipt its chain entry signed, as every reprint checks.
            do { _ = try tx.sale(id: saleID) } catch { throw refuse("sale \(saleID)'s record does not match its log entry") }
            summary.sales += 1
            taken.insert(saleID)
        }
        for b in lane.blocks where taken.contains(b["sale_id"] as Int64) {
            let marks = Array(repeating: "?", count: b.columns.count).joined(separator: ", ")
            _ = try tx.db.run("INSERT INTO sale_blocks (\(b.columns.joined(separator: ", "))) VALUES (\(marks))", b.values)
        }
        for m in lane.meters {
            let pan: String = m["pan"], tid: Int64 = m["last_tid"], base: Int64 = m["last_tid_base_date"]
            guard let c = try Row.fetchOne(tx.db, sql: """
                SELECT m.last_tid, m.last_tid_base_date FROM meters m JOIN offline_meters o ON o.pan = m.pan WHERE m.pan = ? AND o.station = ?
                """, arguments: [pan, id]) else { throw refuse("meter \(pan) is not held for this lane") }
            guard base > (c[1] as Int64) || (base == (c[1] as Int64) && tid >= (c[0] as Int64)) else {
                throw refuse("meter \(pan)'s last TID would go back")
            }
            try tx.db.execute(sql: "UPDATE meters SET last_tid = ?, last_tid_base_date = ? WHERE pan = ?", arguments: [tid, base, pan])
        }
        for a in lane.accounts {
            try tx.db.execute(sql: """
                UPDATE accounts SET arrears = ?, debt = ?, fixed_due = ?, month = ?, month_purchased = ?, month_free = ?, carried = ?
                WHERE id = ? AND meter_pan = ? AND closed_at IS NULL AND meter_pan IN (SELECT pan FROM offline_meters WHERE station = ?)
                """, arguments: [a["arrears"] as Int64, a["debt"] as Int64, a["fixed_due"] as Int64, a["month"] as String,
                                 a["month_purchased"] as Int64, a["month_free"] as Int64, a["carried"] as Int64,
                                 a["id"] as Int64, a["meter_pan"] as String, id])
            guard tx.db.changesCount == 1 else { throw refuse("account \(a["id"] as Int64) is not an open account of a meter held for this lane") }
        }
        try tx.db.execute(sql: "UPDATE station SET checkpoint_seq = ?, checkpoint_time = ? WHERE station_id = ?",
                          arguments: [lane.checkpoint.seq, lane.checkpoint.time, id])
        try tx.db.execute(sql: "UPDATE offline_lanes SET uploaded_seq = ?, uploaded_at = ? WHERE station = ?", arguments: [last.seq, tx.now, id])
        if returning {
            try tx.db.execute(sql: "UPDATE offline_lanes SET state = 'returned' WHERE station = ?", arguments: [id])
            try tx.db.execute(sql: "DELETE FROM offline_meters WHERE station = ?", arguments: [id])
            try tx.db.execute(sql: "DELETE FROM offline_sale_ids WHERE station = ? AND used = 0", arguments: [id])
            summary.returned = true
        }
        summary.entries = fresh.count
        return summary
    }
}
