import STSTokenFormat

/// A small JSON reader and writer for the batch format: one object per line, read from bytes
/// without Foundation, so a batch of a million requests is bounded by token work, not parsing.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// Integers that fit 64 bits keep their exact value.
    case integer(Int64)
    /// Other numbers keep their text, so nothing is lost to binary floating point.
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public subscript(key: String) -> JSON? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    public var integer: Int64? { if case let .integer(i) = self { return i } else { return nil } }
    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var object: JSONObject? { if case let .object(o) = self { return o } else { return nil } }
    public var array: [JSON]? { if case let .array(a) = self { return a } else { return nil } }

    /// Parses one JSON text.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(BatchError) -> JSON {
        var p = Parser(b: bytes, i: 0)
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw .badRequest("trailing characters after the JSON object") }
        return v
    }

    public static func parse(_ text: String) throws(BatchError) -> JSON {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (b) throws(BatchError) -> JSON in try parse(b) }
    }

    struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        var i: Int

        mutating func skipSpace() {
            while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
        }

        func fail(_ what: String) -> BatchError { .badRequest("invalid JSON at byte \(i + 1): \(what)") }

        mutating func value(depth: Int) throws(BatchError) -> JSON {
            guard depth < 32 else { throw fail("nested too deeply") }
            skipSpace()
            guard i < b.count else { throw fail("unexpected end") }
            switch b[i] {
            case 123: return try object(depth: depth)
            case 91:
                i += 1
                var items: [JSON] = []
                skipSpace()
                if i < b.count, b[i] == 93 { i += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < b.count else { throw fail("unterminated array") }
                    if b[i] == 44 { i += 1; continue }
                    if b[i] == 93 { i += 1; return .array(items) }
                    throw fail("expected ',' or ']'")
                }
            case 34: return .string(try string())
            case 116: try literal("true"); return .bool(true)
            case 102: try literal("false"); return .bool(false)
            case 110: try literal("null"); return .null
            default: return try number()
            }
        }

        mutating func object(depth: Int) throws(BatchError) -> JSON {
            i += 1
            var out = JSONObject()
            skipSpace()
            if i < b.count, b[i] == 125 { i += 1; return .object(out) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == 34 else { throw fail("expected a key") }
                let key = try string()
                skipSpace()
                guard i < b.count, b[i] == 58 else { throw fail("expected ':'") }
                i += 1
                out.pairs.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard i < b.count else { throw fail("unterminated object") }
                if b[i] == 44 { i += 1; continue }
                if b[i] == 125 { i += 1; return .object(out) }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func literal(_ word: StaticString) throws(BatchError) {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw fail("unexpected end") }
            for k in 0..<n where b[i + k] != word.utf8Start[k] { throw fail("unknown literal") }
            i += n
        }

        mutating func number() throws(BatchError) -> JSON {
            let start = i
            var integral = true
            if i < b.count, b[i] == 45 { i += 1 }
            while i < b.count {
                let c = b[i]
                if c >= 48 && c <= 57 { i += 1; continue }
                if c == 46 || c == 101 || c == 69 || c == 43 || c == 45 { integral = false; i += 1; continue }
                break
            }
            guard i > start else { throw fail("unexpected character") }
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            if integral, let v = Int64(text) { return .integer(v) }
            guard Double(text) != nil else { throw fail("bad number") }
            return .number(text)
        }

        mutating func string() throws(BatchError) -> String {
            i += 1
            let start = i
            // Fast path: no escapes.
            while i < b.count, b[i] != 34, b[i] != 92 { i += 1 }
            guard i < b.count else { throw fail("unterminated string") }
            if b[i] == 34 {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            var bytes = Array(b[start..<i])
            while i < b.count {
                let c = b[i]
                if c == 34 { i += 1; return String(decoding: bytes, as: UTF8.self) }
                if c == 92 {
                    guard i + 1 < b.count else { break }
                    let e = b[i + 1]
                    i += 2
                    switch e {
                    case 34, 92, 47: bytes.append(e)
                    case 98: bytes.append(8)
                    case 102: bytes.append(12)
                    case 110: bytes.append(10)
                    case 114: bytes.append(13)
                    case 116: bytes.append(9)
                    case 117:
                        guard i + 4 <= b.count, let u = UInt32(String(decoding: UnsafeBufferPointer(rebasing: b[i..<i + 4]), as: UTF8.self), radix: 16)
                        else { throw fail("bad \\u escape") }
                        i += 4
                        var scalar = u
                        if (0xD800..<0xDC00).contains(u), i + 6 <= b.count, b[i] == 92, b[i + 1] == 117,
                           let lo = UInt32(String(decoding: UnsafeBufferPointer(rebasing: b[i + 2..<i + 6]), as: UTF8.self), radix: 16),
                           (0xDC00..<0xE000).contains(lo) {
                            scalar = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                            i += 6
                        }
                        bytes.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
                    default: throw fail("bad escape")
                    }
                } else {
                    bytes.append(c)
                    i += 1
                }
            }
            throw fail("unterminated string")
        }
    }
}

/// A JSON object as its members in order. Batch objects have a dozen keys at most, so a linear
/// search beats hashing every key; when a key repeats, the last one counts (as in most parsers).
public struct JSONObject: Equatable, Sendable, Sequence {
    public var pairs: [(key: String, value: JSON)] = []

    public init() {}

    public subscript(key: String) -> JSON? {
        for p in pairs.reversed() where p.key == key { return p.value }
        return nil
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { pairs.makeIterator() }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        let keys = Set(a.pairs.map(\.key))
        return keys == Set(b.pairs.map(\.key)) && keys.allSatisfy { a[$0] == b[$0] }
    }
}

/// Appends compact JSON to a byte buffer, in the order fields are written.
public struct JSONLineWriter {
    public private(set) var bytes: [UInt8] = []
    var first = true

    public init() { bytes.reserveCapacity(256) }

    public mutating func begin() { bytes.append(123); first = true }
    public mutating func end() { bytes.append(125); bytes.append(10) }
    /// Closes the object without a line end (for JSON embedded in other text).
    public mutating func close() { bytes.append(125) }

    mutating func key(_ k: String) {
        if !first { bytes.append(44) }
        first = false
        appendString(k)
        bytes.append(58)
    }

    public mutating func field(_ k: String, _ v: String) { key(k); appendString(v) }
    public mutating func field(_ k: String, _ v: Int) { key(k); bytes.append(contentsOf: String(v).utf8) }
    public mutating func field(_ k: String, _ v: UInt64) { key(k); bytes.append(contentsOf: String(v).utf8) }
    public mutating func field(_ k: String, _ v: Int128) { key(k); bytes.append(contentsOf: String(v).utf8) }
    public mutating func field(_ k: String, _ v: Bool) { key(k); bytes.append(contentsOf: (v ? "true" : "false").utf8) }
    public mutating func field(_ k: String, _ v: [String]) {
        key(k)
        bytes.append(91)
        for (n, s) in v.enumerated() { if n > 0 { bytes.append(44) }; appendString(s) }
        bytes.append(93)
    }
    /// Token numbers as an array of 20-digit strings, written without intermediate strings.
    public mutating func tokenDigits(_ k: String, _ tokens: [TokenNumber]) {
        key(k)
        bytes.append(91)
        for (n, t) in tokens.enumerated() {
            if n > 0 { bytes.append(44) }
            bytes.append(34)
            let at = bytes.count
            bytes.append(contentsOf: repeatElement(48, count: 20))
            bytes.withUnsafeMutableBufferPointer { t.writeDigits(to: $0.baseAddress! + at) }
            bytes.append(34)
        }
        bytes.append(93)
    }

    /// 64-bit blocks as an array of 16-digit upper-case hex strings.
    public mutating func hexBlocks(_ k: String, _ blocks: [UInt64]) {
        key(k)
        bytes.append(91)
        for (n, b) in blocks.enumerated() {
            if n > 0 { bytes.append(44) }
            bytes.append(34)
            for i in stride(from: 60, through: 0, by: -4) {
                let d = UInt8(truncatingIfNeeded: b >> UInt64(i)) & 0xF
                bytes.append(d < 10 ? d + 48 : d + 55)
            }
            bytes.append(34)
        }
        bytes.append(93)
    }

    /// A nested object written by `body`.
    public mutating func object(_ k: String, _ body: (inout JSONLineWriter) -> Void) {
        key(k)
        bytes.append(123)
        first = true
        body(&self)
        bytes.append(125)
        first = false
    }
    /// A nested array whose elements `body` writes with ``element(_:)`` or ``value(_:)``.
    public mutating func array(_ k: String, _ body: (inout JSONLineWriter) -> Void) {
        key(k)
        bytes.append(91)
        first = true
        body(&self)
        bytes.append(93)
        first = false
    }
    /// An object as the next element of an array opened by ``array(_:_:)``.
    public mutating func element(_ body: (inout JSONLineWriter) -> Void) {
        if !first { bytes.append(44) }
        bytes.append(123)
        first = true
        body(&self)
        bytes.append(125)
        first = false
    }
    /// A string as the next element of an array opened by ``array(_:_:)``.
    public mutating func value(_ s: String) {
        if !first { bytes.append(44) }
        appendString(s)
        first = false
    }
    /// A field whose value is JSON text already encoded (trusted, written as is).
    public mutating func rawText(_ k: String, _ text: [UInt8]) { key(k); bytes.append(contentsOf: text) }
    /// A field set to null.
    public mutating func null(_ k: String) { key(k); bytes.append(contentsOf: "null".utf8) }
    /// Writes an already-encoded JSON value.
    public mutating func raw(_ k: String, _ json: JSON) { key(k); append(json) }

    mutating func append(_ json: JSON) {
        switch json {
        case .null: bytes.append(contentsOf: "null".utf8)
        case let .bool(b): bytes.append(contentsOf: (b ? "true" : "false").utf8)
        case let .integer(i): bytes.append(contentsOf: String(i).utf8)
        case let .number(t): bytes.append(contentsOf: t.utf8)
        case let .string(s): appendString(s)
        case let .array(a):
            bytes.append(91)
            for (n, v) in a.enumerated() { if n > 0 { bytes.append(44) }; append(v) }
            bytes.append(93)
        case let .object(o):
            bytes.append(123)
            for (n, (k, v)) in o.pairs.enumerated() {
                if n > 0 { bytes.append(44) }
                appendString(k); bytes.append(58); append(v)
            }
            bytes.append(125)
        }
    }

    mutating func appendString(_ s: String) {
        bytes.append(34)
        if s.utf8.allSatisfy({ $0 >= 32 && $0 != 34 && $0 != 92 }) {
            bytes.append(contentsOf: s.utf8)
            bytes.append(34)
            return
        }
        for c in s.utf8 {
            switch c {
            case 34: bytes.append(92); bytes.append(34)
            case 92: bytes.append(92); bytes.append(92)
            case 10: bytes.append(92); bytes.append(110)
            case 13: bytes.append(92); bytes.append(114)
            case 9: bytes.append(92); bytes.append(116)
            case 0..<32:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: bytes.append(c)
            }
        }
        bytes.append(34)
    }

    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }
}
