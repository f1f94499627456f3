import STSTokenFormat

/// The prices of a currency meter by time of day: named periods (peak, standard, off-peak …),
/// each with a price per kWh, and a schedule naming the period in force in every hour of a
/// weekday and of a weekend day. Times are UTC: the simulator has no time zone.
///
/// Prices are integers in 10⁻⁵ currency units per kWh, the unit of the currency registers, so
/// "2.50" is 250 000 and no binary floating point is involved. A table is always complete and
/// valid: every initializer checks it (file form: `TimeOfUseTableFile.swift`, Specs/meter.md §6).
public struct TimeOfUseTable: Hashable, Sendable {
    /// One named period and its price.
    public struct Period: Hashable, Sendable {
        /// 1–24 characters from `a`–`z`, `0`–`9`, `-`, `_`, starting with a letter.
        public let name: String
        /// The price in 10⁻⁵ currency units per kWh, 0 … ``TimeOfUseTable/maximumPrice``.
        public let pricePerKWh: Int64

        /// A period, refused when the name or the price is out of bounds.
        public init(name: String, pricePerKWh: Int64) throws(TimeOfUseTableError) {
            guard Self.isValidName(name) else { throw .badName(line: 0, String(name.prefix(40))) }
            guard (0...TimeOfUseTable.maximumPrice).contains(pricePerKWh) else { throw .badPrice(line: 0, String(pricePerKWh)) }
            self.name = name
            self.pricePerKWh = pricePerKWh
        }

        init(trusted name: String, _ price: Int64) {
            self.name = name
            self.pricePerKWh = price
        }

        /// Whether `name` may name a period.
        public static func isValidName(_ name: String) -> Bool {
            let bytes = Array(name.utf8)
            guard (1...24).contains(bytes.count), let first = bytes.first, (97...122).contains(first) else { return false }
            return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 }
        }
    }

    /// Monday to Friday, or Saturday and Sunday (UTC).
    public enum DayType: String, Sendable, CaseIterable, Codable {
        /// Monday to Friday.
        case weekday
        /// Saturday and Sunday.
        case weekend
    }

    /// The highest price a table may set: 999 999.99999 per kWh. With loads below 2⁶³ W a
    /// minute's cost stays far inside 128 bits.
    public static let maximumPrice: Int64 = 99_999_999_999
    /// The most periods a table may name.
    public static let maximumPeriods = 16

    /// The periods, in the order they were declared.
    public let periods: [Period]
    /// For each hour 0–23 of a weekday, the index in ``periods`` of the period in force.
    public let weekdayHours: [Int]
    /// For each hour 0–23 of a weekend day, the index in ``periods`` of the period in force.
    public let weekendHours: [Int]
    /// The period whose price a set-tariff-rate token replaces (see ``price(at:tariffRate:)``);
    /// nil: tariff rate tokens are stored but change no price.
    public let tariffRatePeriod: String?

    /// A table from its parts: `weekday` and `weekend` name the period of each hour 0–23.
    /// Refused unless there are 1–16 periods with valid, distinct names, each day has exactly
    /// 24 hours naming declared periods, and `tariffRatePeriod` (if any) is declared.
    public init(periods: [Period], weekday: [String], weekend: [String], tariffRatePeriod: String? = nil) throws(TimeOfUseTableError) {
        guard !periods.isEmpty else { throw .noPeriods }
        guard periods.count <= Self.maximumPeriods else { throw .tooManyPeriods(line: 0) }
        var seen: Set<String> = []
        for p in periods {
            // Period's initializers already check; checked again so this init alone guarantees a valid table.
            guard Period.isValidName(p.name) else { throw .badName(line: 0, String(p.name.prefix(40))) }
            guard (0...Self.maximumPrice).contains(p.pricePerKWh) else { throw .badPrice(line: 0, String(p.pricePerKWh)) }
            guard seen.insert(p.name).inserted else { throw .duplicatePeriod(line: 0, p.name) }
        }
        func indices(_ names: [String], _ day: DayType) throws(TimeOfUseTableError) -> [Int] {
            guard names.count == 24 else { throw .wrongHourCount(day, names.count) }
            var result: [Int] = []
            for name in names {
                guard let i = periods.firstIndex(where: { $0.name == name }) else { throw .unknownPeriod(line: 0, String(name.prefix(40))) }
                result.append(i)
            }
            return result
        }
        let weekdayHours = try indices(weekday, .weekday)
        let weekendHours = try indices(weekend, .weekend)
        if let r = tariffRatePeriod, !seen.contains(r) { throw .unknownPeriod(line: 0, String(r.prefix(40))) }
        self.init(trusted: periods, weekdayHours, weekendHours, tariffRatePeriod)
    }

    init(trusted periods: [Period], _ weekdayHours: [Int], _ weekendHours: [Int], _ tariffRatePeriod: String?) {
        self.periods = periods
        self.weekdayHours = weekdayHours
        self.weekendHours = weekendHours
        self.tariffRatePeriod = tariffRatePeriod
    }

    /// The built-in table, used when `meter init --currency` gets no `--tou-file`:
    ///
    /// | period | price per kWh | weekdays (Mon–Fri) | weekends (Sat, Sun) |
    /// | --- | --- | --- | --- |
    /// | `peak` | 3.00 | 07:00–10:00, 18:00–20:00 | — |
    /// | `standard` | 1.50 | 06:00–07:00, 10:00–18:00, 20:00–22:00 | 06:00–22:00 |
    /// | `off-peak` | 0.80 | 22:00–06:00 | 22:00–06:00 |
    ///
    /// A set-tariff-rate token replaces the `standard` price.
    public static let defaultTable: TimeOfUseTable = {
        let periods = [Period(trusted: "peak", 300_000), Period(trusted: "standard", 150_000), Period(trusted: "off-peak", 80_000)]
        let (peak, standard, offPeak) = (0, 1, 2)
        var weekday = [Int](repeating: standard, count: 24)
        var weekend = [Int](repeating: standard, count: 24)
        for h in [22, 23, 0, 1, 2, 3, 4, 5] { weekday[h] = offPeak; weekend[h] = offPeak }
        for h in [7, 8, 9, 18, 19] { weekday[h] = peak }
        return TimeOfUseTable(trusted: periods, weekday, weekend, "standard")
    }()

    // MARK: the calendar

    /// Weekday or weekend at `time` (seconds since 1970, UTC). 1970-01-01 was a Thursday, so
    /// the weekday is (⌊time / 86 400⌋ + 3) mod 7 with Monday 0; 5 and 6 are the weekend.
    public static func dayType(at time: Int64) -> DayType {
        let (days, _) = floorDivision(time, 86_400)
        let weekday = (days % 7 + 7 + 3) % 7
        return weekday >= 5 ? .weekend : .weekday
    }

    /// The hour of the day, 0–23, at `time` (UTC).
    public static func hour(at time: Int64) -> Int {
        let (_, second) = floorDivision(time, 86_400)
        return Int(second / 3_600)
    }

    /// Quotient rounded down and a remainder in 0 ..< d, for negative times too (no overflow:
    /// the quotient's magnitude only shrinks).
    static func floorDivision(_ t: Int64, _ d: Int64) -> (Int64, Int64) {
        let q = t / d, r = t % d
        return r < 0 ? (q - 1, r + d) : (q, r)
    }

    // MARK: prices

    /// The hours of one kind of day, as period indices.
    public func hours(_ day: DayType) -> [Int] { day == .weekday ? weekdayHours : weekendHours }

    /// The period in force at `time`.
    public func period(at time: Int64) -> Period {
        periods[hours(Self.dayType(at: time))[Self.hour(at: time)]]
    }

    /// The price per kWh (10⁻⁵ units) in force at `time`. When the meter holds a tariff rate R
    /// from a set-tariff-rate token and the period in force is ``tariffRatePeriod``, the price
    /// is R hundredths of a currency unit per kWh (R × 1 000 in 10⁻⁵ units: 150 is 1.50);
    /// other periods keep the table's price.
    public func price(at time: Int64, tariffRate: UInt16?) -> Int64 {
        let p = period(at: time)
        if let r = tariffRate, p.name == tariffRatePeriod { return Int64(r) * 1_000 }
        return p.pricePerKWh
    }
}

// MARK: - State file form

extension TimeOfUseTable: Codable {
    /// How a table sits in a meter state file: prices as decimal strings of 10⁻⁵ units, the
    /// schedule as 24 period names per kind of day.
    public struct Stored: Codable, Sendable {
        /// One period: its name and price (10⁻⁵ units per kWh, as decimal digits).
        public struct StoredPeriod: Codable, Sendable {
            /// The period's name (e.g. `peak`), as the schedule refers to it.
            public var name: String
            /// The price per kWh in 10⁻⁵ currency units, as decimal digits.
            public var price_per_kwh: String
        }
        /// The periods, in table order.
        public var periods: [StoredPeriod]
        /// 24 period names, hour 0 first, for weekdays and for weekends.
        public var weekday: [String]
        /// 24 period names for weekend days, hour 0 first.
        public var weekend: [String]
        /// The period a set-tariff-rate token prices, if any.
        public var tariff_rate_period: String?
    }

    /// The table in its stored form.
    public var stored: Stored {
        Stored(periods: periods.map { .init(name: $0.name, price_per_kwh: String($0.pricePerKWh)) },
               weekday: weekdayHours.map { periods[$0].name }, weekend: weekendHours.map { periods[$0].name },
               tariff_rate_period: tariffRatePeriod)
    }

    /// The table a stored form describes, checked like any other table.
    public init(stored s: Stored) throws(TimeOfUseTableError) {
        guard s.periods.count <= Self.maximumPeriods else { throw .tooManyPeriods(line: 0) }
        var periods: [Period] = []
        for p in s.periods {
            // Digits only: no sign, no spaces, at most 11 of them (the maximum price has 11).
            guard (1...11).contains(p.price_per_kwh.utf8.count), p.price_per_kwh.utf8.allSatisfy({ (48...57).contains($0) }),
                  let price = Int64(p.price_per_kwh)
            else { throw .badPrice(line: 0, String(p.price_per_kwh.prefix(40))) }
            periods.append(try Period(name: p.name, pricePerKWh: price))
        }
        try self.init(periods: periods, weekday: s.weekday, weekend: s.weekend, tariffRatePeriod: s.tariff_rate_period)
    }

    /// Decodes the stored form and checks it; an invalid table is a decoding error.
    public init(from decoder: any Decoder) throws {
        let s = try Stored(from: decoder)
        do {
            try self.init(stored: s)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Encodes the stored form.
    public func encode(to encoder: any Encoder) throws { try stored.encode(to: encoder) }
}
