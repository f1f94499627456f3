import ArgumentParser
import Crypto
import Foundation
import STSStation
import STSTariff
import STSTokenFormat

struct SellBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sell-batch",
        abstract: "Sell from a CSV file in committed groups, with progress and a result CSV.",
        discussion: """
        Input columns (header line required): meter,money[,units][,request_id][,channel]. Each row \
        gives money or units. Rows without a request id get `FILEHASH:LINE`, so running the same \
        file again returns the committed sales instead of selling twice. The result file \
        (line,request_id,meter,status,sale,token,tid,units,error) is written as each group commits \
        and renamed from OUT.partial to OUT at the end. Exit 0 if every row sold, 2 if some were refused.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The input CSV.") var csv: String
    @Option(help: "The result CSV.") var out: String
    @Option(help: "Sales per committed group (one fsync each).") var group = 500

    func run() throws {
        try runStation {
            guard let data = FileManager.default.contents(atPath: csv) else { throw ValidationError("cannot read \(csv)") }
            let fileID = SHA256.hash(data: data).prefix(6).map { String(format: "%02x", $0) }.joined()
            let rows = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
            guard let header = rows.first else { throw ValidationError("\(csv) is empty") }
            // Column positions, found once.
            let columns = Dictionary(header.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
            func column(_ name: String) -> Int? { columns[name] }
            guard let meterColumn = column("meter") else { throw ValidationError("the header needs a meter column") }
            var requests: [SaleRequest] = []
            var lines: [Int] = []
            var rejected: [(Int, String)] = []
            for (n, row) in rows.enumerated().dropFirst() {
                func field(_ name: String) -> String? { column(name).flatMap { $0 < row.count && !row[$0].isEmpty ? row[$0] : nil } }
                do {
                    let amount: SaleRequest.Amount
                    if let m = field("money") { amount = .money(try Money(m)) } else if let u = field("units") {
                        amount = .units(try EnergyAmount.tenths(u))
                    } else { throw StationError.invalid(.row, "no money or units") }
                    requests.append(SaleRequest(meter: try MeterPAN(meterNumber: meterColumn < row.count ? row[meterColumn] : ""), amount: amount,
                                                requestID: field("request_id") ?? "\(fileID):\(n + 1)", channel: field("channel") ?? "counter"))
                    lines.append(n + 1)
                } catch { rejected.append((n + 1, "\(error)")) }
            }
            let s = try station.open()
            let who = try actor.authenticate(s, action: "sell-batch")
            let partial = out + ".partial"
            unlink(partial)
            // The results hold every token (bearer credit): owner-only whatever the umask.
            let fd = Glibc.open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0, let file = fdopen(fd, "w") else { throw StationError.store("cannot create \(partial): \(String(cString: strerror(errno)))") }
            defer { fclose(file) }
            fputs("line,request_id,meter,status,sale,token,tid,units,error\n", file)
            for (line, error) in rejected { fputs(CSVCell.row(["\(line)", "", "", "refused", "", "", "", "", CSVCell.text(error)]) + "\n", file) }
            var done = 0, failed = rejected.count
            let started = Date()
            try s.sellBatch(requests, groupSize: group, by: who) { results in
                for r in results {
                    let line = lines[r.index]
                    if let receipt = r.receipt {
                        fputs(CSVCell.row(["\(line)", CSVCell.text(r.request.requestID), "\(r.request.meter)", receipt.replayed ? "replayed" : "sold",
                                           "\(receipt.saleID)", receipt.tokens.first ?? "", receipt.tid.map { "\($0)" } ?? "", kWh(receipt.unitsTenths), ""]) + "\n", file)
                    } else {
                        failed += 1
                        fputs(CSVCell.row(["\(line)", CSVCell.text(r.request.requestID), "\(r.request.meter)", "refused", "", "", "", "",
                                           CSVCell.text(r.error ?? "")]) + "\n", file)
                    }
                }
                fflush(file)
                fsync(fileno(file))
                done += results.count
                let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-6)
                printError("sold \(done)/\(requests.count) (\(Int(rate)) sales/s)")
            }
            guard fflush(file) == 0, fsync(fileno(file)) == 0 else { throw StationError.store("cannot write \(partial): \(String(cString: strerror(errno)))") }
            guard rename(partial, out) == 0 else { throw StationError.store("cannot rename \(partial) to \(out): \(String(cString: strerror(errno)))") }
            printLine("\(requests.count + rejected.count) rows: \(requests.count + rejected.count - failed) sold, \(failed) refused; results in \(out)")
            if failed > 0 { throw ExitCode(2) }
        }
    }
}
