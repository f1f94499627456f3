import Crypto

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

    /// The previous hash of the first entry.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The line without its end-of-line.
    public let bytes: [UInt8]
    public let seq: Int64
    public let hash: [UInt8]

    /// Builds the line for an entry whose `data` is a JSON object's text.
    public init(seq: Int64, unixSeconds: Int64, type: String, actor: String, data: [UInt8], prev: [UInt8]) {
        var w = JSONText()
        w.raw(Self.seqPrefix)
        w.raw(Array(String(seq).utf8))
        w.raw(Array(#","time":"#.utf8))
        w.string(AuditTime.format(unixSeconds))
        w.raw(Array(#","type":"#.utf8))
        w.string(type)
        w.raw(Array(#","actor":"#.utf8))
        w.string(actor)
        w.raw(Array(#","data":"#.utf8))
        w.raw(data)
        w.raw(Self.prevMarker)
        w.raw(Hex.encode(prev))
        w.raw([34])
        let digest = Array(SHA256.hash(data: w.bytes))
        w.raw(Self.hashMarker)
        w.raw(Hex.encode(digest))
        w.raw([34, 125])
        bytes = w.bytes
        self.seq = seq
        hash = digest
    }

    /// The fixed fields of a stored or exported line, or why the line is not laid out as an
    /// entry; the hash is recomputed separately (``computedHash(_:)``).
    public static func header(_ line: UnsafeBufferPointer<UInt8>) -> (seq: Int64, prev: [UInt8], hash: [UInt8])? {
        let n = line.count
        guard n > seqPrefix.count + hashSuffixCount + prevSuffixCount else { return nil }
        guard line.starts(with: seqPrefix),
              line[n - 2] == 34, line[n - 1] == 125,
              Array(line[(n - hashSuffixCount)..<(n - hashSuffixCount + hashMarker.count)]) == hashMarker
        else { return nil }
        let hashed = n - hashSuffixCount
        guard Array(line[(hashed - prevSuffixCount)..<(hashed - prevSuffixCount + prevMarker.count)]) == prevMarker,
              line[hashed - 1] == 34,
              let hash = Hex.decode(line[(n - 66)..<(n - 2)]),
              let prev = Hex.decode(line[(hashed - 65)..<(hashed - 1)])
        else { return nil }
        var seq: Int64 = 0
        var i = seqPrefix.count
        while i < n, line[i] >= 48, line[i] <= 57, seq < Int64.max / 10 {
            seq = seq * 10 + Int64(line[i] - 48)
            i += 1
        }
        guard i > seqPrefix.count, i < n, line[i] == 44 else { return nil }
        return (seq, prev, hash)
    }

    /// SHA-256 of the hashed part of a line laid out as an entry.
    public static func computedHash(_ line: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: line[0..<(line.count - hashSuffixCount)]))))
    }
}

/// Appends JSON text to a byte buffer (strings escaped as in the batch format).
struct JSONText {
    var bytes: [UInt8] = []
    init() { bytes.reserveCapacity(512) }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    mutating func string(_ s: String) {
        bytes.append(34)
        for c in s.utf8 {
            switch c {
            case 34: bytes.append(contentsOf: [92, 34])
            case 92: bytes.append(contentsOf: [92, 92])
            case 0..<32:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: bytes.append(c)
            }
        }
        bytes.append(34)
    }
}

/// Lower-case hex, as every hash in the log is written.
public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return out
    }

    public static func string(_ bytes: some Sequence<UInt8>) -> String { String(decoding: encode(bytes), as: UTF8.self) }

    /// Lower-case hex only (the log's form); nil for anything else.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var high: UInt8 = 0, odd = false
        for c in text {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            default: return nil
            }
            if odd { out.append(high << 4 | v) } else { high = v }
            odd.toggle()
        }
        return out
    }
}

/// Times in the log: UTC, to the second, ISO 8601 ("2026-11-23T09:41:07Z").
public enum AuditTime {
    public static func format(_ unixSeconds: Int64) -> String {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secs = unixSeconds - days * 86_400
        let (y, m, d) = civil(days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(Int64(m)))-\(two(Int64(d)))T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))Z"
    }

    /// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
    static func civil(_ z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
