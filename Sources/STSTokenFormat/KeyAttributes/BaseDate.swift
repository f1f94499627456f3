/// The base date from which token identifiers count minutes: 1 January of 1993, 2014 or 2035,
/// 00:00 UTC. A decoder key is bound to one base date; moving to the next is a key change with
/// the rollover bit set.
public enum BaseDate: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// 1993-01-01T00:00Z: the original base date (its 24-bit TIDs run out in November 2024).
    case y1993 = 1993
    /// 2014-01-01T00:00Z: the base date that follows 1993 (TIDs last until late 2045).
    case y2014 = 2014
    /// 2035-01-01T00:00Z: the base date that follows 2014.
    case y2035 = 2035

    /// The base date of a year; throws `outOfRange` unless it is 1993, 2014 or 2035.
    public init(year: Int) throws(FieldError) {
        guard let bd = BaseDate(rawValue: year) else {
            throw .outOfRange(field: "base date", value: "\(year)", range: "1993, 2014 or 2035")
        }
        self = bd
    }

    /// The year.
    public var year: Int { rawValue }

    /// The last two digits of the year, as DKGA04 writes them ("93", "14", "35").
    public var twoDigitYear: Int { rawValue % 100 }

    /// Seconds from 1970-01-01T00:00Z to this base date.
    public var unixSeconds: Int64 { CivilTime.daysFromCivil(year: rawValue, month: 1, day: 1) * 86_400 }

    /// The year as text.
    public var description: String { "\(rawValue)" }
}
