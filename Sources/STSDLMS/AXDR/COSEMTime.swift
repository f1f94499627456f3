import Foundation

/// The COSEM date-time (Blue Book 4.1.6.1): 12 bytes, year (2), month, day, day of week,
/// hour, minute, second, hundredths, deviation (2, minutes, 0x8000 = not specified), status.
/// This toolkit writes UTC with deviation 0.
public enum COSEMTime {
    /// The 12-byte COSEM date-time of `t` in UTC (deviation 0, status 0).
    public static func dateTime(_ t: Int64) -> [UInt8] {
        var tm = tm()
        var time = time_t(t)
        gmtime_r(&time, &tm)
        // Years a date-time cannot hold (a meter's nonsense read back) are "not specified".
        guard (0...65_534).contains(Int(tm.tm_year) + 1900) else { return notSpecified }
        let year = UInt16(Int(tm.tm_year) + 1900)
        let dow = UInt8(tm.tm_wday == 0 ? 7 : tm.tm_wday)
        return [UInt8(year >> 8), UInt8(year & 0xFF), UInt8(tm.tm_mon + 1), UInt8(tm.tm_mday), dow,
                UInt8(tm.tm_hour), UInt8(tm.tm_min), UInt8(tm.tm_sec), 0, 0x00, 0x00, 0x00]
    }
    public static let notSpecified: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0xFF]

    /// Seconds since 1970 of a COSEM date-time (UTC; a deviation is applied), nil if unspecified.
    public static func seconds(_ b: [UInt8]) -> Int64? {
        guard b.count == 12 else { return nil }
        let year = Int(b[0]) << 8 | Int(b[1])
        // Outside 1970–2200 a meter's time is nonsense to the head-end (and would not round-trip).
        guard (1970...2200).contains(year), (1...12).contains(b[2]), (1...31).contains(b[3]), b[5] < 24, b[6] < 60, b[7] < 60 else { return nil }
        var tm = tm()
        tm.tm_year = Int32(year - 1900); tm.tm_mon = Int32(b[2]) - 1; tm.tm_mday = Int32(b[3])
        tm.tm_hour = Int32(b[5]); tm.tm_min = Int32(b[6]); tm.tm_sec = Int32(b[7])
        var t = Int64(timegm(&tm))
        let deviation = Int16(bitPattern: UInt16(b[9]) << 8 | UInt16(b[10]))
        if deviation != Int16(bitPattern: 0x8000) { t += Int64(deviation) * 60 }
        return t
    }
}
