import STSSupport

/// Reading an interface message's members by the v3 models' rules: required members present,
/// strings within their lengths and patterns, nothing coerced. Members the models do not name
/// are ignored, as the interface asks of both sides (Specs/prepaid-utility.md §3).
struct PUSIFields {
    let object: JSONObject
    /// Where the object sits in the message ("originator.merchant"), for the error's words.
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// A nested object member.
    func object(_ key: String) throws(PUSIError) -> PUSIFields? {
        guard let v = object[key], v != .null else { return nil }
        guard let o = v.object else { throw .format("\"\(name(key))\" must be an object") }
        return PUSIFields(o, path: name(key))
    }

    func requiredObject(_ key: String) throws(PUSIError) -> PUSIFields {
        guard let o = try object(key) else { throw .format("\"\(name(key))\" is required") }
        return o
    }

    /// A string member of 1…`max` bytes (exactly `length` when given) whose bytes all pass `allowed`.
    func string(_ key: String, max: Int, length: Int? = nil, allowed: ((UInt8) -> Bool)? = nil, what: String? = nil) throws(PUSIError) -> String? {
        guard let v = object[key], v != .null else { return nil }
        guard let s = v.string else { throw .format("\"\(name(key))\" must be a string") }
        let n = s.utf8.count
        let fits = length.map { n == $0 } ?? (1...max).contains(n)
        guard fits, !s.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }), allowed.map({ s.utf8.allSatisfy($0) }) ?? true else {
            let size = length.map { "exactly \($0)" } ?? "1–\(max)"
            throw .format("\"\(name(key))\" must be \(what ?? "\(size) characters")")
        }
        return s
    }

    func required(_ key: String, max: Int, length: Int? = nil, allowed: ((UInt8) -> Bool)? = nil, what: String? = nil) throws(PUSIError) -> String {
        guard let s = try string(key, max: max, length: length, allowed: allowed, what: what) else { throw .format("\"\(name(key))\" is required") }
        return s
    }

    /// An array member of at most `max` objects.
    func objects(_ key: String, max: Int) throws(PUSIError) -> [PUSIFields]? {
        guard let v = object[key], v != .null else { return nil }
        guard let a = v.array, a.count <= max else { throw .format("\"\(name(key))\" must be an array of at most \(max) objects") }
        return try a.enumerated().map { (i, e) throws(PUSIError) -> PUSIFields in
            guard let o = e.object else { throw .format("\"\(name(key))[\(i)]\" must be an object") }
            return PUSIFields(o, path: "\(name(key))[\(i)]")
        }
    }

    /// The raw value of a member, to echo unchanged.
    func raw(_ key: String) -> JSON? { object[key].flatMap { $0 == .null ? nil : $0 } }

    static func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    static func alphanumeric(_ c: UInt8) -> Bool { digit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
}

/// Formats the interface's identifiers and times take.
public enum PUSIFormat {
    /// A UUID in its canonical form: 36 characters, lower-case hex in 8-4-4-4-12 groups (the
    /// interface's validator accepts exactly what `UUID.toString()` prints).
    public static func isUUID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if [8, 13, 18, 23].contains(i) { if c != 45 { return false } } else if !((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) { return false }
        }
        return true
    }

    /// An RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or `±HH:MM`.
    public static func isDateTime(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 20, b.count <= 40 else { return false }
        func digits(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= b.count else { return nil }
            var v = 0
            for i in r { guard PUSIFields.digit(b[i]) else { return nil }; v = v * 10 + Int(b[i] - 48) }
            return v
        }
        guard let _ = digits(0..<4), b[4] == 45, let mo = digits(5..<7), b[7] == 45, let d = digits(8..<10),
              b[10] == 84 || b[10] == 116, let h = digits(11..<13), b[13] == 58, let mi = digits(14..<16), b[16] == 58, let se = digits(17..<19),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se <= 60 else { return false }
        var i = 19
        if b[i] == 46 {
            i += 1
            let start = i
            while i < b.count, PUSIFields.digit(b[i]) { i += 1 }
            guard i > start, i - start <= 9 else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == 90 || b[i] == 122 { return i + 1 == b.count }
        guard b[i] == 43 || b[i] == 45, b.count == i + 6, let oh = digits(i + 1..<i + 3), b[i + 3] == 58, let om = digits(i + 4..<i + 6) else { return false }
        return oh < 24 && om < 60
    }
}
