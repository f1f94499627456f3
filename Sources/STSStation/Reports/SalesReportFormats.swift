import STSBatch
import STSTariff

/// The report as people and programs read it: a text listing, one CSV table, or JSON. Money is
/// written in the currency's units with 2 decimals, energy in kWh with one; the row's group
/// names come first, then its count, then its figures.
extension SalesReport {
    /// One section of the report: its name, its columns and how each figure is written.
    struct Section {
        var name: String
        var columns: [String]
        var rows: [ReportRow]
        var formats: [(Int64) -> String]
    }

    var sections: [Section] {
        let money: (Int64) -> String = { Money(cents: $0).description }
        return [
            Section(name: "takings", columns: ["day", "operator", "channel", "sales", "money", "channel_fees", "vat", "energy"], rows: takings,
                    formats: [money, money, money, money]),
            Section(name: "blocks", columns: ["block", "price_per_kwh_1e-4", "sales", "kwh", "money"], rows: blocks,
                    formats: [{ EnergyAmount.text(tenths: $0) }, money]),
            Section(name: "recovered", columns: ["day", "sales", "arrears", "debt", "fixed_charges"], rows: recovered, formats: [money, money, money]),
            Section(name: "tokens", columns: ["kind", "records", "tokens"], rows: tokens, formats: [{ "\($0)" }]),
        ] + (periods.isEmpty ? [] : [
            Section(name: "periods", columns: ["tariff", "period", "sales", "money", "energy", "kwh"], rows: periods,
                    formats: [money, money, { EnergyAmount.text(tenths: $0) }]),
        ])
    }

    /// Each section as a line of its column names, then one indented line per row, cells
    /// separated by ` | `; every line ends with a newline.
    public func text() -> String {
        var out = ""
        for s in sections {
            out += "\(s.name): \(s.columns.joined(separator: " | "))\n"
            for row in s.rows {
                let cells = row.group + ["\(row.count)"] + row.values.enumerated().map { s.formats[$0.offset]($0.element) }
                out += "  " + cells.joined(separator: " | ") + "\n"
            }
        }
        return out
    }

    /// One rectangular table (RFC 4180): a `section` column, then every section's columns in a
    /// fixed order, empty where a section has none. Text people typed (operators, channels) goes
    /// through ``CSVCell/text(_:)``, so a spreadsheet shows it as text, never runs it.
    public func csv() -> String {
        var columns = ["section"]
        for s in sections { for c in s.columns where !columns.contains(c) { columns.append(c) } }
        var out = CSVCell.row(columns) + "\n"
        for s in sections {
            for row in s.rows {
                var cells = [String](repeating: "", count: columns.count)
                cells[0] = s.name
                func put(_ column: String, _ value: String) { if let i = columns.firstIndex(of: column) { cells[i] = value } }
                for (i, g) in row.group.enumerated() { put(s.columns[i], CSVCell.text(g)) }
                put(s.columns[row.group.count], "\(row.count)")
                for (i, v) in row.values.enumerated() { put(s.columns[row.group.count + 1 + i], CSVCell.quoted(s.formats[i](v))) }
                out += CSVCell.row(cells) + "\n"
            }
        }
        return out
    }

    /// One JSON object with an array per section; each row an object keyed by the section's
    /// columns (the count as an integer, figures as decimal strings). Ends with a newline.
    public func json() -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        for s in sections {
            w.array(s.name) { w in
                for row in s.rows {
                    w.element { e in
                        for (i, g) in row.group.enumerated() { e.field(s.columns[i], g) }
                        e.field(s.columns[row.group.count], Int(row.count))
                        for (i, v) in row.values.enumerated() { e.field(s.columns[row.group.count + 1 + i], s.formats[i](v)) }
                    }
                }
            }
        }
        w.end()
        return w.bytes
    }
}
