/// CSV cells as RFC 4180 writes them, safe to open in a spreadsheet: the sale results and the
/// report table are written with these.
public enum CSVCell {
    /// A cell holding text people typed (names, channels, request ids, messages): a leading
    /// `=`, `+`, `-`, `@`, tab or CR would make a spreadsheet run it as a formula, so such text
    /// gets a leading `'`; then the cell is quoted if it holds a comma, a quote or a line break.
    public static func text(_ s: String) -> String {
        var v = s
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { v = "'" + v }
        return quoted(v)
    }

    /// A cell holding a number or a code the program wrote: only quoted when it must be.
    public static func quoted(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A row: the cells (already made with ``text(_:)`` or ``quoted(_:)``) joined by commas, no line end.
    public static func row(_ cells: [String]) -> String { cells.joined(separator: ",") }
}
