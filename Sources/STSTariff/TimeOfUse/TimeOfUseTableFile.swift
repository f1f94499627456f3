#if canImport(Glibc)
import Glibc
#endif
import STSTokenFormat

/// Why a time-of-use table was refused. `line` is the 1-based line of the file (0 when the
/// table did not come from a file, e.g. a state file's stored form).
public enum TimeOfUseTableError: CodedError, Equatable {
    /// The file is longer than ``TimeOfUseTable/maximumFileBytes``.
    case tooLong
    /// The file cannot be opened or read.
    case unreadable(String)
    /// A byte other than printable ASCII (0x20–0x7E) and LF.
    case notText(line: Int)
    /// Line 1 is not `sts-tou-table 1`.
    case badHeader
    /// An unknown keyword, a wrong number of fields, or a field separator other than one space.
    case badLine(line: Int, String)
    /// A period name outside the allowed characters or lengths.
    case badName(line: Int, String)
    /// A price that is not digits with at most 5 decimals, or above the maximum.
    case badPrice(line: Int, String)
    /// An hour range that is not `HH-HH` with 00 ≤ from < to ≤ 24.
    case badHours(line: Int, String)
    /// A name that no earlier `period` line declared.
    case unknownPeriod(line: Int, String)
    /// A period declared twice.
    case duplicatePeriod(line: Int, String)
    /// An hour given a period twice.
    case duplicateHour(line: Int, TimeOfUseTable.DayType, Int)
    /// An hour given no period.
    case missingHour(TimeOfUseTable.DayType, Int)
    /// A day whose schedule does not have exactly 24 hours (stored form only).
    case wrongHourCount(TimeOfUseTable.DayType, Int)
    /// More than ``TimeOfUseTable/maximumPeriods`` periods.
    case tooManyPeriods(line: Int)
    /// No period at all.
    case noPeriods

    /// Always `bad-tou-table`.
    public var code: String { "bad-tou-table" }

    /// One line in the user's words, naming the line of the file.
    public var description: String {
        func at(_ line: Int) -> String { line > 0 ? "time-of-use table line \(line): " : "time-of-use table: " }
        switch self {
        case .tooLong: return "time-of-use table: longer than \(TimeOfUseTable.maximumFileBytes) bytes"
        case let .unreadable(why): return "time-of-use table: \(why)"
        case let .notText(line): return at(line) + "only printable ASCII and LF line ends are allowed"
        case .badHeader: return "time-of-use table line 1: must be exactly 'sts-tou-table 1'"
        case let .badLine(line, why): return at(line) + why
        case let .badName(line, name): return at(line) + "period name '\(name)' must be 1–24 of a-z 0-9 - _, starting with a letter"
        case let .badPrice(line, text): return at(line) + "price '\(text)' must be digits with at most 5 decimals, at most 999999.99999"
        case let .badHours(line, text): return at(line) + "hours '\(text)' must be HH-HH with 00 ≤ from < to ≤ 24"
        case let .unknownPeriod(line, name): return at(line) + "unknown period '\(name)' (declare it on an earlier 'period' line)"
        case let .duplicatePeriod(line, name): return at(line) + "period '\(name)' is declared twice"
        case let .duplicateHour(line, day, hour): return at(line) + "\(day.rawValue) hour \(hour) already has a period"
        case let .missingHour(day, hour): return "time-of-use table: \(day.rawValue) hour \(hour) has no period"
        case let .wrongHourCount(day, n): return "time-of-use table: \(day.rawValue) has \(n) hours, not 24"
        case let .tooManyPeriods(line): return at(line) + "more than \(TimeOfUseTable.maximumPeriods) periods"
        case .noPeriods: return "time-of-use table: no period declared"
        }
    }
}

/// The file form: a strict line format (Specs/meter.md §6, "Time-of-use table file").
///
/// ```
/// sts-tou-table 1
/// period peak 3.00
/// period standard 1.50
/// weekday 00-07 standard
/// …
/// ```
extension TimeOfUseTable {
    /// The longest file read.
    public static let maximumFileBytes = 16_384

    /// Reads and parses a table file: a regular file (a FIFO or device would block or never
    /// end), reading no more than one chunk past ``maximumFileBytes`` before refusing it.
    public static func load(path: String) throws(TimeOfUseTableError) -> TimeOfUseTable {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw .unreadable("\(path) is not a regular file") }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while data.count <= maximumFileBytes {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return try TimeOfUseTable(fileBytes: data)
    }

    /// Parses the text form.
    public init(text: String) throws(TimeOfUseTableError) { try self.init(fileBytes: Array(text.utf8)) }

    /// Parses the file form's bytes: refuses anything the format does not allow, naming the line.
    public init(fileBytes bytes: [UInt8]) throws(TimeOfUseTableError) {
        guard bytes.count <= Self.maximumFileBytes else { throw .tooLong }
        var lineNumber = 1
        for b in bytes {
            if b == 10 { lineNumber += 1 } else if !(32...126).contains(b) { throw .notText(line: lineNumber) }
        }
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard lines.first == "sts-tou-table 1" else { throw .badHeader }
        var periods: [Period] = []
        var schedule: [DayType: [Int?]] = [.weekday: Array(repeating: nil, count: 24), .weekend: Array(repeating: nil, count: 24)]
        var ratePeriod: String?
        for (i, line) in lines.enumerated().dropFirst() {
            let n = i + 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard !fields.contains(where: \.isEmpty) else { throw .badLine(line: n, "fields are separated by exactly one space, with none at either end") }
            func declared(_ name: String) throws(TimeOfUseTableError) -> Int {
                guard let index = periods.firstIndex(where: { $0.name == name }) else { throw .unknownPeriod(line: n, String(name.prefix(40))) }
                return index
            }
            switch (fields[0], fields.count) {
            case ("period", 3):
                guard Period.isValidName(fields[1]) else { throw .badName(line: n, String(fields[1].prefix(40))) }
                guard !periods.contains(where: { $0.name == fields[1] }) else { throw .duplicatePeriod(line: n, fields[1]) }
                guard periods.count < Self.maximumPeriods else { throw .tooManyPeriods(line: n) }
                guard let price = Self.moneyUnits(fields[2]), price <= Self.maximumPrice else { throw .badPrice(line: n, String(fields[2].prefix(40))) }
                periods.append(Period(trusted: fields[1], price))
            case ("tariff-rate-period", 2):
                guard ratePeriod == nil else { throw .badLine(line: n, "tariff-rate-period is given twice") }
                ratePeriod = periods[try declared(fields[1])].name
            case ("weekday", 3), ("weekend", 3):
                let day: DayType = fields[0] == "weekday" ? .weekday : .weekend
                guard let range = Self.hourRange(fields[1]) else { throw .badHours(line: n, String(fields[1].prefix(40))) }
                let index = try declared(fields[2])
                for h in range {
                    guard schedule[day]?[h] == nil else { throw .duplicateHour(line: n, day, h) }
                    schedule[day]?[h] = index
                }
            default:
                throw .badLine(line: n, "expected 'period NAME PRICE', 'weekday HH-HH NAME', 'weekend HH-HH NAME' or 'tariff-rate-period NAME'")
            }
        }
        guard !periods.isEmpty else { throw .noPeriods }
        var hours: [DayType: [Int]] = [:]
        for day in DayType.allCases {
            var filled: [Int] = []
            for (h, index) in (schedule[day] ?? []).enumerated() {
                guard let index else { throw .missingHour(day, h) }
                filled.append(index)
            }
            hours[day] = filled
        }
        self.init(trusted: periods, hours[.weekday] ?? [], hours[.weekend] ?? [], ratePeriod)
    }

    /// `HH-HH` → the hours from..<to, with 0 ≤ from < to ≤ 24; nil otherwise.
    static func hourRange(_ text: String) -> Range<Int>? {
        let b = Array(text.utf8)
        guard b.count == 5, b[2] == 45, [b[0], b[1], b[3], b[4]].allSatisfy({ (48...57).contains($0) }) else { return nil }
        let from = Int(b[0] - 48) * 10 + Int(b[1] - 48)
        let to = Int(b[3] - 48) * 10 + Int(b[4] - 48)
        guard from < to, to <= 24 else { return nil }
        return from..<to
    }

    /// A non-negative money amount in 10⁻⁵ units, exactly: 1–6 digits, optionally `.` and
    /// 1–5 more digits (`2.50` → 250 000). No sign, exponent, spaces or rounding; nil otherwise.
    public static func moneyUnits(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = Array(parts[0].utf8)
        let fraction = parts.count == 2 ? Array(parts[1].utf8) : []
        guard (1...6).contains(whole.count), parts.count == 1 || (1...5).contains(fraction.count),
              (whole + fraction).allSatisfy({ (48...57).contains($0) })
        else { return nil }
        var units: Int64 = 0
        for d in whole { units = units * 10 + Int64(d - 48) }
        for i in 0..<5 { units = units * 10 + (i < fraction.count ? Int64(fraction[i] - 48) : 0) }
        return units
    }

    /// 10⁻⁵ units as money with 2 to 5 decimals (`300000` → `3.00`, `80001` → `0.80001`).
    public static func formatMoney(_ units: Int128) -> String {
        var text = DecimalQuantity.format(units, scale: 5)
        if !text.contains(".") { text += "." }
        while let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) < 3 { text += "0" }
        return text
    }

    /// The canonical file form; parsing it gives this table back.
    public var fileText: String {
        var lines = ["sts-tou-table 1"]
        for p in periods { lines.append("period \(p.name) \(Self.formatMoney(Int128(p.pricePerKWh)))") }
        if let r = tariffRatePeriod { lines.append("tariff-rate-period \(r)") }
        for day in DayType.allCases {
            let h = hours(day)
            var from = 0
            for to in 1...24 where to == 24 || h[to] != h[from] {
                lines.append("\(day.rawValue) \(Self.twoDigits(from))-\(Self.twoDigits(to)) \(periods[h[from]].name)")
                from = to
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
