import Crypto
import Foundation
import STSAuditLog
import STSBatch

/// One open transaction on the station database. Every SQL statement of the station lives in
/// `Store/`, behind methods named for what they do; a PostgreSQL store for multi-station
/// utilities implements the same methods.
final class StoreTransaction {
    let db: any StoreDB
    unowned let station: Station
    /// The log's head, read once per transaction.
    private var head: (seq: Int64, hash: [UInt8])?
    private var appended = 0
    var forceSeal = false

    init(db: any StoreDB, station: Station) {
        self.db = db
        self.station = station
    }

    var now: Int64 { station.now() }

    /// Appends one entry to the hash-chained log.
    @discardableResult
    func log(_ type: AuditEntryType, actor: String, _ data: (inout JSONLineWriter) -> Void) throws -> Int64 {
        var w = JSONLineWriter()
        w.begin()
        data(&w)
        w.close()
        return try log(type, actor: actor, data: w.bytes)
    }

    @discardableResult
    func log(_ type: AuditEntryType, actor: String, data: [UInt8]) throws -> Int64 {
        if station.offlineLane != .none { try station.offlineLane.allow(type, station: station.name) }
        let (seq, prev) = try currentHead()
        guard seq >= 0, seq < Int64.max else { throw StationError.tampered("the log's last entry number \(seq) is impossible") }
        let line = AuditEntryLine(seq: seq + 1, unixSeconds: now, type: type.rawValue, actor: actor, data: data, prev: prev)
        try db.cachedStatement(sql: "INSERT INTO log (station, seq, line, hash) VALUES (?, ?, ?, ?)")
            .execute(arguments: [station.stationID, line.seq, line.bytes, line.hash])
        head = (line.seq, line.hash)
        appended += 1
        return line.seq
    }

    /// Refuses to seal a new secret under a key-encryption key another process has rotated away
    /// (it would be sealed under a key the station no longer opens with).
    func requireCurrentKEK() throws {
        guard let check = try Data.fetchOne(db, sql: "SELECT kek_check FROM station WHERE station_id = ?", arguments: [station.stationID]) else { throw StationError.store("the station row is missing") }
        _ = try station.kek.open(check, purpose: "kek-check:\(station.stationID)")
    }

    /// Drops the cached head after a savepoint rolled back (it may name a discarded entry).
    func forgetHead() { head = nil }

    func currentHead() throws -> (Int64, [UInt8]) {
        if let head { return head }
        if let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM log WHERE station = ? ORDER BY seq DESC LIMIT 1", arguments: [station.stationID]) {
            guard let seq = row[0] as Int64?, let hash = row[1] as Data?, hash.count == 32 else {
                throw StationError.tampered("the log's last entry has no valid number or hash")
            }
            let h: (Int64, [UInt8]) = (seq, Array(hash))
            head = h
            return h
        }
        return (0, AuditEntryLine.genesis)
    }

    /// Adds a signed checkpoint when the entries since the last one reach the station's count
    /// or age, or when the transaction asked for one (station, key, tariff and user changes, exports).
    func sealIfDue() throws {
        guard appended > 0 else { return }
        guard let row = try Row.fetchOne(db, sql: "SELECT checkpoint_seq, checkpoint_time FROM station WHERE station_id = ?", arguments: [station.stationID]) else {
            throw StationError.store("the station row is missing")
        }
        let lastSeq: Int64 = row[0] ?? 0, lastTime: Int64 = row[1] ?? 0
        let (seq, _) = try currentHead()
        // Values from the file are not trusted to be sane: an impossible distance means "due".
        let entries = seq.subtractingReportingOverflow(lastSeq), age = now.subtractingReportingOverflow(lastTime)
        let due = forceSeal || entries.overflow || age.overflow || entries.partialValue >= Int64(station.checkpointEvery)
            || age.partialValue >= station.checkpointSeconds || age.partialValue < 0
        guard due else { return }
        try seal()
    }

    /// Appends a signed checkpoint sealing every entry so far.
    func seal() throws {
        let (seq, hash) = try currentHead()
        let data = try Checkpoint.data(stationID: station.stationID, through: seq, head: hash, signingKey: station.signingKey)
        let cp = try log(.checkpoint, actor: "station", data: data)
        try db.execute(sql: "UPDATE station SET checkpoint_seq = ?, checkpoint_time = ? WHERE station_id = ?", arguments: [cp, now, station.stationID])
        appended = 0
    }

    /// Every log line in order, for export.
    func logLines(through last: Int64, _ body: (Data) throws -> Void) throws {
        try logLines(after: 0, through: last, body)
    }

    func logLines(after first: Int64, through last: Int64, _ body: (Data) throws -> Void) throws {
        // In pages, so a long log is never held in memory at once.
        var from = first
        while from < last {
            let to = from + min(last - from, 5_000)
            for line in try Data.fetchAll(db, sql: "SELECT line FROM log WHERE station = ? AND seq > ? AND seq <= ? ORDER BY seq",
                                          arguments: [station.stationID, from, to]) { try body(line) }
            from = to
        }
    }
}
