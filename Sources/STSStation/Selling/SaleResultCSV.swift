import Foundation
import STSTariff

/// The result file of a sale CSV: `line,request_id,meter,status,sale,token,tid,units,error`, one
/// row per input row, the rows refused before selling first. It is written as `OUT.partial`
/// (created owner-only, never over another file: the rows hold every token, which is bearer
/// credit), synced after each committed group, and renamed to `OUT` once complete, so `OUT`
/// never exists half written.
final class SaleResultCSV {
    static let header = "line,request_id,meter,status,sale,token,tid,units,error\n"

    let path: String
    let partial: String
    private let file: UnsafeMutablePointer<FILE>

    /// Creates `path.partial` (a leftover one from an interrupted run is replaced) and writes the header.
    init(path: String) throws(StationError) {
        self.path = path
        partial = path + ".partial"
        unlink(partial)
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .store("cannot create \(partial): \(String(cString: strerror(errno)))") }
        guard let file = fdopen(fd, "w") else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .store("cannot create \(partial): \(reason)")
        }
        self.file = file
        fputs(Self.header, file)
    }

    deinit { fclose(file) }

    /// A row refused before selling: no request was made of it.
    func rejected(_ row: SaleCSV.Rejected) {
        put(["\(row.line)", "", "", "refused", "", "", "", "", CSVCell.text(row.error)])
    }

    /// A request's outcome: sold, replayed (committed by an earlier run) or refused.
    func result(_ r: BatchSaleResult, line: Int) {
        if let receipt = r.receipt {
            put(["\(line)", CSVCell.text(r.request.requestID), "\(r.request.meter)", receipt.replayed ? "replayed" : "sold", "\(receipt.saleID)",
                 receipt.tokens.first ?? "", receipt.tid.map { "\($0)" } ?? "", EnergyAmount.text(tenths: receipt.unitsTenths), ""])
        } else {
            put(["\(line)", CSVCell.text(r.request.requestID), "\(r.request.meter)", "refused", "", "", "", "", CSVCell.text(r.error ?? "")])
        }
    }

    /// Pushes the rows written so far to disk, after each committed group: a crash then loses no
    /// result of a committed sale (and a rerun returns them anyway, as replayed).
    func sync() throws(StationError) {
        guard fflush(file) == 0, fsync(fileno(file)) == 0, ferror(file) == 0 else {
            throw .store("cannot write \(partial): \(String(cString: strerror(errno)))")
        }
    }

    /// Checks that every row reached the disk and gives the file its final name.
    func finish() throws(StationError) {
        guard fflush(file) == 0, fsync(fileno(file)) == 0, ferror(file) == 0 else { throw .store("cannot write \(partial): \(String(cString: strerror(errno)))") }
        guard rename(partial, path) == 0 else { throw .store("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))") }
    }

    private func put(_ cells: [String]) { fputs(CSVCell.row(cells) + "\n", file) }
}
