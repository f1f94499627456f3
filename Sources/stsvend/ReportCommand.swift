import ArgumentParser
import Foundation
import STSBatch
import STSStation
import STSTariff
import STSTokenFormat

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Daily takings by operator and channel, energy and money per tariff block, arrears recovered, tokens per kind.",
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
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let start = try CivilTime.parseISO8601(from + "T00:00:00Z"), end = try CivilTime.parseISO8601(to + "T00:00:00Z") + 86_400
            let s = try station.open()
            _ = try actor.authenticate(s, action: "report")
            let r = try s.report(from: start, to: end)
            func money(_ c: Int64) -> String { Money(cents: c).description }
            let sections: [(String, [String], [ReportRow], [(Int64) -> String])] = [
                ("takings", ["day", "operator", "channel", "sales", "money", "channel_fees", "vat", "energy"], r.takings, [money, money, money, money]),
                ("blocks", ["block", "price_per_kwh_1e-4", "sales", "kwh", "money"], r.blocks, [{ kWh($0) }, money]),
                ("recovered", ["day", "sales", "arrears", "debt", "fixed_charges"], r.recovered, [money, money, money]),
                ("tokens", ["kind", "records", "tokens"], r.tokens, [{ "\($0)" }]),
            ]
            if output.json {
                var w = JSONLineWriter()
                w.begin()
                for (name, header, rows, formats) in sections {
                    w.array(name) { w in
                        for row in rows {
                            w.element { e in
                                for (i, g) in row.group.enumerated() { e.field(header[i], g) }
                                e.field(header[row.group.count], Int(row.count))
                                for (i, v) in row.values.enumerated() { e.field(header[row.group.count + 1 + i], formats[i](v)) }
                            }
                        }
                    }
                }
                w.end()
                FileHandle.standardOutput.write(Data(w.bytes))
                return
            }
            if csv {
                // One rectangular table: every section's columns, in a fixed order.
                var columns = ["section"]
                for (_, header, _, _) in sections { for h in header where !columns.contains(h) { columns.append(h) } }
                printLine(CSVCell.row(columns))
                for (name, header, rows, formats) in sections {
                    for row in rows {
                        var cells = [String](repeating: "", count: columns.count)
                        cells[0] = name
                        func put(_ column: String, _ value: String) { if let i = columns.firstIndex(of: column) { cells[i] = value } }
                        for (i, g) in row.group.enumerated() { put(header[i], CSVCell.text(g)) }
                        put(header[row.group.count], "\(row.count)")
                        for (i, v) in row.values.enumerated() { put(header[row.group.count + 1 + i], CSVCell.quoted(formats[i](v))) }
                        printLine(CSVCell.row(cells))
                    }
                }
                return
            }
            for (name, header, rows, formats) in sections {
                printLine("\(name): \(header.joined(separator: " | "))")
                for row in rows {
                    let cells = row.group + ["\(row.count)"] + row.values.enumerated().map { formats[$0.offset]($0.element) }
                    printLine("  " + cells.joined(separator: " | "))
                }
            }
        }
    }
}
