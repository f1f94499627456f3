import Crypto
import STSSupport
import Foundation
import STSAuditLog

extension Station {
    /// Writes the whole log as JSON lines (auditors and supervisors), ending with an `export`
    /// entry and a signed checkpoint; returns the number of entries and the head hash to hand
    /// to the auditor with the file.
    ///
    /// The export is recorded only once its file is durable: the lines sealed so far are written
    /// to `PATH.partial` from a snapshot, then one transaction appends the export entry and its
    /// checkpoint, writes the lines committed meanwhile and the two new ones, syncs and renames
    /// the file, and only then commits. A full disk or any write error leaves no file, no
    /// partial file and no export entry. The file is owner-only: it holds every token.
    public func exportLog(to path: String, by actor: Actor) throws -> (entries: Int64, head: String) {
        try actor.require([.auditor, .supervisor], to: "export the log")
        // A name of this process's own: two exports to one file cannot take each other's partial file.
        let temp = path + ".partial-\(getpid())"
        unlink(temp)
        let out = try ExportFile(temp)
        defer { out.close() }
        do {
            // Most of the log, without holding the write lock.
            let snapshot: Int64 = try read { tx in
                let (seq, _) = try tx.currentHead()
                try tx.logLines(through: seq) { try out.append($0) }
                return seq
            }
            return try write { tx in
                let (seq, _) = try tx.currentHead()
                try tx.log(.export, actor: actor.name) { w in w.field("through", Int(seq)) }
                try tx.seal()
                let (sealed, head) = try tx.currentHead()
                try tx.logLines(after: snapshot, through: sealed) { try out.append($0) }
                try out.finish(renamingTo: path)
                return (out.lines, Hex.string(head))
            }
        } catch {
            // Nothing of a failed export stays: not the partial file, nor a file renamed just
            // before a commit that then failed.
            out.close()
            unlink(temp)
            if let renamed = out.renamed { unlink(renamed) }
            throw error
        }
    }
}

/// The export's file: buffered writes, errors as storage errors (exit 6) with the system's reason.
final class ExportFile {
    let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private(set) var lines: Int64 = 0
    /// Where the file went, once renamed.
    private(set) var renamed: String?

    init(_ path: String) throws {
        self.path = path
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StationError.store("cannot create \(path): \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(1 << 20)
    }

    func append(_ line: Data) throws {
        buffer.append(contentsOf: line)
        buffer.append(10)
        lines += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw StationError.store("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames the file into place (and syncs the folder).
    func finish(renamingTo target: String) throws {
        try flush()
        guard fsync(fd) == 0 else { throw StationError.store("cannot write \(path): \(String(cString: strerror(errno)))") }
        guard rename(path, target) == 0 else {
            throw StationError.store("cannot rename \(path) to \(target): \(String(cString: strerror(errno)))")
        }
        renamed = target
        let folder = Glibc.open((target as NSString).deletingLastPathComponent.isEmpty ? "." : (target as NSString).deletingLastPathComponent, O_RDONLY)
        if folder >= 0 { fsync(folder); Glibc.close(folder) }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}

extension Station {
    /// The stations of this station's store (one for an SQLite file), oldest first.
    public func stations() throws -> [(name: String, id: String)] {
        try read { tx in
            try Row.fetchAll(tx.db, sql: "SELECT name, station_id FROM station ORDER BY id").map { ($0["name"], $0["station_id"]) }
        }
    }

    /// Another station of the same shared store, acting with its own signing key (opened with
    /// the store's key-encryption key): so its chain is sealed by its own key, never by ours.
    func sibling(named name: String) throws -> Station {
        if name == self.name { return self }
        let row: Row? = try read { tx in
            try Row.fetchOne(tx.db, sql: "SELECT station_id, name, signing_key, test_clock FROM station WHERE name = ?", arguments: [name])
        }
        guard let row else { throw StationError.notFound("station \(name)") }
        let id: String = row["station_id"]
        var raw = try kek.open(row["signing_key"] as Data, purpose: "station-signing-key:\(id)")
        defer { for i in raw.indices { raw[i] = 0 } }
        let other = Station(path: path, store: store, kek: kek, signingKey: try Curve25519.Signing.PrivateKey(rawRepresentation: raw), stationID: id)
        other.name = row["name"]
        other.testClock = (row["test_clock"] as Int64? ?? 0) == 1
        other.now = now
        other.checkpointEvery = checkpointEvery
        other.checkpointSeconds = checkpointSeconds
        try other.loadOfflineLane()
        return other
    }

    /// The last entry of a station's chain in this store (its seq and hash, hex): what an offline
    /// lane's upload extends, and what a supervisor compares with the lane's own head.
    public func chainHead(ofStation name: String) throws -> (seq: Int64, head: String) {
        try read { tx in
            guard let id = try String.fetchOne(tx.db, sql: "SELECT station_id FROM station WHERE name = ?", arguments: [name]) else { throw StationError.notFound("station \(name)") }
            guard let r = try Row.fetchOne(tx.db, sql: "SELECT seq, hash FROM log WHERE station = ? ORDER BY seq DESC LIMIT 1", arguments: [id]) else { return (0, "") }
            return (r[0], Hex.string(r[1] as Data))
        }
    }

    /// Exports every station's chain of the store (auditors, supervisors): `DIR/NAME.jsonl`, each
    /// sealed by its own station's export entry and checkpoint (``exportLog(to:by:)``), and
    /// `DIR/NAME.pub`. Returns, per station, its entry count and head. A station whose offline
    /// lane is out is not exported (its chain goes on in the lane's local store, and an export
    /// entry here would fork it): it is listed with `offline` set; export it after the upload.
    public func exportAllLogs(to folder: String, by actor: Actor) throws -> [(station: String, entries: Int64, head: String, offline: Bool)] {
        try actor.require([.auditor, .supervisor], to: "export the log")
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard mkdir(folder, 0o700) == 0 else { throw StationError.invalid(.file, "cannot create folder \(folder)") }
        } else if !isFolder.boolValue {
            throw StationError.invalid(.file, "\(folder) is not a folder")
        }
        var out: [(String, Int64, String, Bool)] = []
        for (name, id) in try stations() {
            let station = try sibling(named: name)
            // A name that could leave the folder (an SQLite station's free-text name) is replaced by the station's id.
            let file = (try? Self.validateStationName(name)) != nil ? name : id
            if station.offlineLane == .centralOut {
                out.append((file, 0, "", true))
                continue
            }
            let (entries, head) = try station.exportLog(to: folder + "/" + file + ".jsonl", by: actor)
            let pub = folder + "/" + file + ".pub"
            unlink(pub)
            try PrivateFile.create(pub, contents: Array(StationPublicKeyFile.text(station.publicKey).utf8))
            out.append((file, entries, head, false))
        }
        return out
    }
}
