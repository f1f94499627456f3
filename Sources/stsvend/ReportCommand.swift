import ArgumentParser
import Foundation
import STSStation
import STSTokenFormat

extension POSSettlement.Grouping: ExpressibleByArgument {}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Daily takings by operator and channel, energy and money per tariff block, arrears recovered, tokens per kind, and sales by time-of-use period (tariffs with periods).",
        discussion: """
        Money in the currency's units with 2 decimals, energy in kWh; reversed sales are left out. \
        --csv writes one table (RFC 4180): a section column (takings, blocks, recovered, tokens) and \
        every section's columns, empty where a section has none; text typed by people (operators, \
        channels) is quoted and never starts with = + - @, so a spreadsheet shows it as text.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "First day (YYYY-MM-DD, UTC).") var from: String
    @Option(help: "Last day, included (YYYY-MM-DD, UTC).") var to: String
    @Flag(help: "CSV instead of text.") var csv = false
    @Option(help: "Point-of-sale settlement instead: purchases per client, merchant or terminal (client|merchant|terminal).")
    var by: POSSettlement.Grouping?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let start = try CivilTime.parseISO8601(from + "T00:00:00Z"), end = try CivilTime.parseISO8601(to + "T00:00:00Z") + 86_400
            let s = try station.open()
            _ = try actor.authenticate(s, action: "report")
            if let by {
                let r = try s.posSettlement(from: start, to: end, by: by)
                FileHandle.standardOutput.write(Data(output.json ? r.json() : Array((csv ? r.csv() : r.text()).utf8)))
                return
            }
            let r = try s.report(from: start, to: end)
            let text = output.json ? r.json() : Array((csv ? r.csv() : r.text()).utf8)
            FileHandle.standardOutput.write(Data(text))
        }
    }
}
