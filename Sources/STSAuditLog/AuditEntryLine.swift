import Crypto
import STSBatch
import STSTokenFormat

/// One line of the station's log, as bytes:
///
///     {"seq":N,"time":"…","type":"…","actor":"…","data":{…},"prev":"<64 hex>","hash":"<64 hex>"}
///
/// `hash` is SHA-256 over every byte of the line before `,"hash":"`, and `prev` is the previous
/// line's `hash` (64 zeros for the first). Because the hash covers the exact bytes, an auditor
/// needs no canonical JSON: the line carries what was hashed. The layout is fixed, so `seq`,
/// `prev` and `hash` are read at known places without parsing the rest.
public struct AuditEntryLine: Sendable {
    /// `,"hash":"` + 64 hex + `"}`.
    static let hashSuffixCount = 75
    /// `,"prev":"` + 64 hex + `"`, at the end of the hashed part.
    static let prevSuffixCount = 74
    static let seqPrefix = Array(#"{"seq":"#.utf8)
    static let hashMarker = Array(#","hash":""#.utf8)
    static let prevMarker = Array(#","prev":""#.utf8)

    /// The previous hash of the first entry (64 zeros in the line).
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The line without its end-of-line.
    public let bytes: [UInt8]
    /// The entry's sequence number: 1 for the first entry, then one more per entry.
    public let seq: Int64
    /// SHA-256 of the line's hashed part (32 bytes): the next entry's `prev`, and what a
    /// checkpoint signs.
    public let hash: [UInt8]

    /// Builds the line for an entry whose `data` is a JSON object's text.
    public init(seq: Int64, unixSeconds: Int64, type: String, actor: String, data: [UInt8], prev: [UInt8]) {
        var w = JSONLineWriter()
        w.begin()
        w.field("seq", Int(seq))
        w.field("time", AuditTime.format(unixSeconds))
        w.field("type", type)
        w.field("actor", actor)
        w.rawText("data", data)
        w.field("prev", Hex.string(prev))
        let digest = Array(SHA256.hash(data: w.bytes))
        w.field("hash", Hex.string(digest))
        w.close()
        bytes = w.bytes
        self.seq = seq
        hash = digest
    }

    /// The fixed fields of a stored or exported line, or nil when the line is not laid out as
    /// an entry (Specs/audit-log.md §2); the hash is recomputed separately (``computedHash(_:)``).
    /// `seq` is 1–19 digits without a leading zero that fit 63 bits.
    public static func header(_ line: UnsafeBufferPointer<UInt8>) -> (seq: Int64, prev: LogDigest, hash: LogDigest)? {
        let n = line.count
        guard n > seqPrefix.count + hashSuffixCount + prevSuffixCount else { return nil }
        guard line.starts(with: seqPrefix),
              line[n - 2] == 34, line[n - 1] == 125,
              line[(n - hashSuffixCount)..<(n - hashSuffixCount + hashMarker.count)].elementsEqual(hashMarker)
        else { return nil }
        let hashed = n - hashSuffixCount
        guard line[(hashed - prevSuffixCount)..<(hashed - prevSuffixCount + prevMarker.count)].elementsEqual(prevMarker),
              line[hashed - 1] == 34,
              let hash = LogDigest(hex: UnsafeBufferPointer(rebasing: line[(n - 66)..<(n - 2)])),
              let prev = LogDigest(hex: UnsafeBufferPointer(rebasing: line[(hashed - 65)..<(hashed - 1)]))
        else { return nil }
        var seq: Int64 = 0
        var i = seqPrefix.count
        while i < n, line[i] &- 48 < 10 {
            let (m, o1) = seq.multipliedReportingOverflow(by: 10)
            let (v, o2) = m.addingReportingOverflow(Int64(line[i] - 48))
            guard !o1, !o2 else { return nil }
            seq = v
            i += 1
        }
        let digits = i - seqPrefix.count
        guard digits > 0, i < n, line[i] == 44, digits == 1 || line[seqPrefix.count] != 48 else { return nil }
        return (seq, prev, hash)
    }

    /// SHA-256 of the hashed part of a line laid out as an entry.
    public static func computedHash(_ line: UnsafeBufferPointer<UInt8>) -> LogDigest {
        LogDigest(hashing: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: line[0..<(line.count - hashSuffixCount)])))
    }
}


/// Times in the log: UTC, to the second, ISO 8601 ("2026-11-23T09:41:07Z").
public enum AuditTime {
    /// The last second a log time can name (9999-12-31T23:59:59Z).
    public static let latest: Int64 = 253_402_300_799

    /// Times outside 1970…9999 (a hostile clock or database row) are clamped to that range.
    public static func format(_ time: Int64) -> String {
        let unixSeconds = max(0, min(time, latest))
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secs = unixSeconds - days * 86_400
        let (y, m, d) = CivilTime.civilFromDays(days)
        // Twenty bytes written in place: every log line and receipt carries a time (string
        // interpolation of six parts was 9 % of writing a sale's receipt).
        var out = [UInt8](repeating: 0, count: 20)
        func put(_ at: Int, _ v: Int, _ width: Int) {
            var x = v
            for i in stride(from: at + width - 1, through: at, by: -1) { out[i] = UInt8(48 + x % 10); x /= 10 }
        }
        put(0, y, 4); out[4] = 45; put(5, m, 2); out[7] = 45; put(8, d, 2); out[10] = 84
        put(11, Int(secs / 3600), 2); out[13] = 58; put(14, Int(secs / 60 % 60), 2); out[16] = 58; put(17, Int(secs % 60), 2); out[19] = 90
        return String(decoding: out, as: UTF8.self)
    }
}
