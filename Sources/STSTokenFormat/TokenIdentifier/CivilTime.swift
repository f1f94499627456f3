/// Calendar arithmetic in UTC without Foundation, so the token layer stays portable and fast.
///
/// Days are counted from 1970-01-01 with the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`), which is exact for every date an STS token can carry.
public enum CivilTime {
    /// Days from 1970-01-01 to the given civil date.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count from 1970-01-01.
    public static func civilFromDays(_ days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }

    /// Parses an ISO 8601 / RFC 3339 time with a zone: `2024-01-01T10:00:00Z`,
    /// `2024-01-01T12:00+02:00`, `2024-01-01 10:00:00.5Z`. Returns seconds since 1970 UTC
    /// (fractions of a second are dropped). A time without a zone is refused: TIDs count UTC
    /// minutes and a silent local-time guess would move them.
    public static func parseISO8601(_ text: String) throws(FieldError) -> Int64 {
        let b = Array(text.utf8)
        var i = 0
        func number(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              i < b.count, b[i] == 84 || b[i] == 116 || b[i] == 32
        else { throw .badTimestamp(text) }
        i += 1
        guard let hour = number(2), expect(58), let minute = number(2) else { throw .badTimestamp(text) }
        var second = 0
        if expect(58) {
            guard let s = number(2) else { throw .badTimestamp(text) }
            second = s
            if expect(46) || expect(44) {
                let start = i
                while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
                guard i > start else { throw .badTimestamp(text) }
            }
        }
        var offsetMinutes = 0
        if expect(90) || expect(122) {
            offsetMinutes = 0
        } else if i < b.count, b[i] == 43 || b[i] == 45 {
            let sign = b[i] == 45 ? -1 : 1
            i += 1
            guard let oh = number(2) else { throw .badTimestamp(text) }
            _ = expect(58)
            guard let om = number(2), oh <= 23, om <= 59 else { throw .badTimestamp(text) }
            offsetMinutes = sign * (oh * 60 + om)
        } else {
            throw .badTimestamp(text)
        }
        guard i == b.count, (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60
        else { throw .badTimestamp(text) }
        let days = daysFromCivil(year: year, month: month, day: day)
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
    }

    /// `YYYY-MM-DDTHH:MMZ` for a count of minutes since 1970 UTC.
    public static func formatMinutes(_ minutes: Int64) -> String {
        let days = minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440
        let (y, m, d) = civilFromDays(days)
        let mod = Int(minutes - days * 1440)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(mod / 60)):\(two(mod % 60))Z"
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
