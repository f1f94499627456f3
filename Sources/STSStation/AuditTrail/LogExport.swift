import Foundation
import GRDB
import STSAuditLog

extension Station {
    /// Writes the whole log as JSON lines (auditors and supervisors). An `export` entry and a
    /// signed checkpoint are appended first, so the file ends sealed; returns the number of
    /// entries and the head hash to hand to the auditor with the file.
    public func exportLog(to path: String, by actor: Actor) throws -> (entries: Int64, head: String) {
        try actor.require([.auditor, .supervisor], to: "export the log")
        // The export ends at its own seal; sales other processes commit meanwhile come after it.
        let (sealedSeq, sealedHead): (Int64, [UInt8]) = try write { tx in
            let (seq, _) = try tx.currentHead()
            try tx.log("export", actor: actor.name) { w in w.field("through", Int(seq)) }
            try tx.seal()
            return try tx.currentHead()
        }
        let temp = path + ".partial"
        unlink(temp)
        // The log holds every token: owner-only, like every other secret-bearing file.
        let fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0, let file = fdopen(fd, "w") else { throw StationError.invalid("cannot create \(temp): \(String(cString: strerror(errno)))") }
        var count: Int64 = 0
        do {
            try read { tx in
                try tx.logLines(through: sealedSeq) { line in
                    line.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, file) }
                    fputc(10, file)
                    count += 1
                }
            }
            guard fflush(file) == 0, fsync(fileno(file)) == 0 else { throw StationError.invalid("cannot write \(temp): \(String(cString: strerror(errno)))") }
            fclose(file)
        } catch {
            fclose(file)
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else { throw StationError.invalid("cannot rename \(temp) to \(path): \(String(cString: strerror(errno)))") }
        return (count, Hex.string(sealedHead))
    }
}
