import Crypto
import Foundation
import STSTariff
import STSTokenFormat

/// A file of sales to make, as counters and agents send them: CSV with a header line naming the
/// columns `meter`, `money`, `units`, `request_id` and `channel` in any order (`meter` required;
/// each row gives `money` or `units`). Cells are trimmed; blank lines are skipped and not counted.
///
/// Every row is read before anything is sold. A row that cannot become a ``SaleRequest`` (no
/// amount, a malformed amount or meter number) is kept in ``rejected`` with why, and the others
/// are still sold. A row without a request id gets `FILEHASH:LINE` (the first 6 bytes of the
/// file's SHA-256 in hex, and the row's line), so the same file sold again returns the sales
/// already committed instead of selling twice.
public struct SaleCSV: Sendable {
    /// A row that became a sale request.
    public struct Row: Sendable {
        /// The row's line in the file (the header is line 1; blank lines are not counted).
        public var line: Int
        /// The sale the row asks for.
        public var request: SaleRequest
    }

    /// A row refused before selling.
    public struct Rejected: Sendable {
        /// The row's line in the file.
        public var line: Int
        /// Why, in the operator's words.
        public var error: String
    }

    /// The rows to sell, in file order.
    public var rows: [Row] = []
    /// The rows that could not become requests, in file order.
    public var rejected: [Rejected] = []

    /// Reads the file at `path`. A file that cannot be read, is empty or has no `meter` column
    /// is ``StationError/invalid(_:_:)`` with field `.csv`. Rows without a request id get
    /// `BATCH:LINE`: `batchID` when given (so a file corrected in place keeps its rows' ids), else
    /// the first 12 hex digits of the file's SHA-256 (so only the same file replays).
    public init(contentsOf path: String, batchID: String? = nil) throws(StationError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalid(.csv, "cannot read \(path)") }
        try self.init(data, name: path, batchID: batchID)
    }

    /// Reads CSV text; `name` is how messages call the file.
    public init(_ data: Data, name: String, batchID: String? = nil) throws(StationError) {
        if let batchID {
            guard (1...64).contains(batchID.utf8.count), batchID.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 44 && $0 != 34 }) else {
                throw .invalid(.csv, "a batch id is 1–64 printable characters without spaces, commas or quotes")
            }
        }
        let fileID = batchID ?? Hex.string(SHA256.hash(data: data).prefix(6))
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard let header = lines.first else { throw .invalid(.csv, "\(name) is empty") }
        // Column positions, found once; a name given twice means its first column.
        let columns = Dictionary(header.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        guard let meterColumn = columns["meter"] else { throw .invalid(.csv, "the header needs a meter column") }
        for (n, cells) in lines.enumerated().dropFirst() {
            func field(_ name: String) -> String? { columns[name].flatMap { $0 < cells.count && !cells[$0].isEmpty ? cells[$0] : nil } }
            do {
                let amount: SaleRequest.Amount
                if let m = field("money") {
                    amount = .money(try Money(m))
                } else if let u = field("units") {
                    amount = .units(try EnergyAmount.tenths(u))
                } else {
                    throw StationError.invalid(.row, "no money or units")
                }
                let meter = try MeterPAN(meterNumber: meterColumn < cells.count ? cells[meterColumn] : "")
                rows.append(Row(line: n + 1, request: SaleRequest(meter: meter, amount: amount, requestID: field("request_id") ?? "\(fileID):\(n + 1)",
                                                                  channel: field("channel") ?? "counter")))
            } catch {
                rejected.append(Rejected(line: n + 1, error: "\(error)"))
            }
        }
    }

    /// Every row of the file, sold or not.
    public var count: Int { rows.count + rejected.count }
}
