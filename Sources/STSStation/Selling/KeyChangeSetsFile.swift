import Foundation
import STSBatch

/// The file a campaign run appends its issued key-change sets to, for delivery to customers:
/// one JSON line per meter, `{"pan":"…","sale":N,"tokens":["…",…]}`, flushed as each set is
/// committed. The sets are tokens, so the file is owner-only (0600) even when it existed before.
final class KeyChangeSetsFile {
    private let file: UnsafeMutablePointer<FILE>

    /// Opens `path` for appending, creating it when missing.
    init(path: String) throws(StationError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .store("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard let file = fdopen(fd, "a") else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .store("cannot open \(path): \(reason)")
        }
        guard fchmod(fd, 0o600) == 0 else {
            fclose(file)
            throw .store("cannot make \(path) owner-only: \(String(cString: strerror(errno)))")
        }
        self.file = file
    }

    deinit { fclose(file) }

    /// Appends one meter's set, on disk before the next meter is issued (a lost set is a
    /// customer who cannot take their new key).
    func append(pan: String, receipt: SaleReceipt) throws(StationError) {
        var w = JSONLineWriter()
        w.begin()
        w.field("pan", pan)
        w.field("sale", Int(receipt.saleID))
        w.field("tokens", receipt.tokens)
        w.end()
        let written = w.bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == w.bytes.count, fflush(file) == 0, fsync(fileno(file)) == 0 else {
            throw .store("cannot write the key-change sets file: \(String(cString: strerror(errno)))")
        }
    }
}
