import ArgumentParser
import Foundation
import STSStation

struct SellBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sell-batch",
        abstract: "Sell from a CSV file in committed groups, with progress and a result CSV.",
        discussion: """
        Input columns (header line required): meter,money[,units][,request_id][,channel]. Each row \
        gives money or units. Rows without a request id get `FILEHASH:LINE`, so running the same \
        file again returns the committed sales instead of selling twice; with --batch-id they get \
        `BATCH:LINE`, so a file corrected in place (rows edited, new rows only at the end) and run \
        again sells only what was not sold yet. The result file \
        (line,request_id,meter,status,sale,token,tid,units,error) is written as each group commits \
        and renamed from OUT.partial to OUT at the end. Exit 0 if every row sold, 2 if some were refused.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The input CSV.") var csv: String
    @Option(help: "The result CSV.") var out: String
    @Option(help: "Sales per committed group (one fsync each).") var group = 500
    @Option(help: "The batch's own id for rows without a request id (BATCH:LINE), kept when the file is corrected and run again.")
    var batchID: String?

    func run() throws {
        try runStation {
            // The input is read before the station is opened; a file that cannot be used is a usage error.
            let sheet: SaleCSV
            do { sheet = try SaleCSV(contentsOf: csv, batchID: batchID) } catch StationError.invalid(.csv, let why) { throw ValidationError(why) }
            let s = try station.open()
            let who = try actor.authenticate(s, action: "sell-batch")
            let summary = try s.sellCSV(sheet, resultPath: out, groupSize: group, by: who) { done, total, rate in
                printError("sold \(done)/\(total) (\(Int(rate)) sales/s)")
            }
            printLine("\(summary.rows) rows: \(summary.sold + summary.replayed) sold, \(summary.refused) refused; results in \(out)")
            if summary.refused > 0 { throw ExitCode(2) }
        }
    }
}
