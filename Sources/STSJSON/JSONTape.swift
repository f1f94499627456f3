/// A strict JSON (RFC 8259) reader that records every value of one text as a flat list of
/// nodes (a "tape") pointing into the text, instead of building a tree of strings and arrays.
///
/// Strict means: only the four whitespace bytes, numbers as the RFC's grammar (no leading zeros,
/// no `+`, digits on both sides of `.`), strings of valid UTF-8 with no raw control characters
/// and only the RFC's escapes (`\u` with exactly four hex digits, surrogates in pairs), nesting
/// at most 32 deep, no member name twice in one object, nothing after the value. Anything else
/// is a ``JSONSyntaxError`` with the byte it was found at.
///
/// One tape is reused line after line (`parse` keeps the node storage), so reading a line
/// allocates nothing; strings are decoded only when asked for. The nodes point into the bytes
/// given to ``parse(_:)``: use them only while those bytes are alive.
public struct JSONTape {
    /// The kinds of JSON value.
    public enum Kind: UInt8, Sendable {
        case null, `false`, `true`, integer, number, string, array, object
    }

    /// One value: where its text is, and where the next value after its subtree starts.
    public struct Node: Sendable {
        public var kind: Kind
        /// A string whose text holds backslash escapes (decoded on demand).
        var escaped: Bool
        /// The value's first byte (strings: the byte after the opening quote).
        public var start: Int32
        /// One past the value's last byte (strings: the closing quote).
        public var end: Int32
        /// The index of the node after this value and everything inside it.
        public var next: Int32
        /// The value of an `.integer` node (numbers without fraction or exponent that fit 64 bits).
        public var integer: Int64
    }

    /// The deepest nesting accepted.
    public static let maximumDepth = 32

    public private(set) var nodes: [Node] = []
    /// Whether whitespace appeared outside strings (formats with a fixed layout refuse it).
    public private(set) var sawWhitespace = false
    /// The text the nodes point into (valid while the caller keeps it alive).
    public private(set) var text = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    public init() { nodes.reserveCapacity(64) }

    /// The root value's node index (0) once ``parse(_:)`` succeeded.
    public var root: Int { 0 }

    /// Reads one JSON text; on success ``nodes`` describe it, the root first.
    public mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) {
        nodes.removeAll(keepingCapacity: true)
        sawWhitespace = false
        text = bytes
        guard bytes.count < Int(Int32.max) else { throw JSONSyntaxError(offset: 0, reason: .tooLarge) }
        guard let p = bytes.baseAddress, bytes.count > 0 else { throw JSONSyntaxError(offset: 0, reason: .unexpectedEnd) }
        var s = Scanner(p: p, n: bytes.count)
        s.skipSpace()
        try s.value(&nodes, depth: 0)
        s.skipSpace()
        guard s.i == s.n else { throw JSONSyntaxError(offset: s.i, reason: .trailingText) }
        sawWhitespace = s.sawWhitespace
    }
}

/// The byte-level reader behind ``JSONTape``.
struct Scanner {
    let p: UnsafePointer<UInt8>
    let n: Int
    var i = 0
    var sawWhitespace = false

    init(p: UnsafePointer<UInt8>, n: Int) {
        self.p = p
        self.n = n
    }

    @inline(__always) func fail(_ reason: JSONSyntaxError.Reason, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: min(offset ?? i, n), reason: reason)
    }

    @inline(__always) mutating func skipSpace() {
        while i < n {
            let c = p[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            sawWhitespace = true
            i += 1
        }
    }

    mutating func value(_ nodes: inout [JSONTape.Node], depth: Int) throws(JSONSyntaxError) {
        guard i < n else { throw fail(.unexpectedEnd) }
        let at = nodes.count
        switch p[i] {
        case 0x7B: // {
            guard depth < JSONTape.maximumDepth else { throw fail(.tooDeep) }
            nodes.append(JSONTape.Node(kind: .object, escaped: false, start: Int32(i), end: 0, next: 0, integer: 0))
            i += 1
            skipSpace()
            var count = 0
            if i < n, p[i] == 0x7D {
                i += 1
            } else {
                while true {
                    guard i < n, p[i] == 0x22 else { throw fail(i < n ? .expectedKey : .unexpectedEnd) }
                    try string(&nodes)
                    skipSpace()
                    guard i < n, p[i] == 0x3A else { throw fail(i < n ? .expectedColon : .unexpectedEnd) }
                    i += 1
                    skipSpace()
                    try value(&nodes, depth: depth + 1)
                    count += 1
                    skipSpace()
                    guard i < n else { throw fail(.unexpectedEnd) }
                    if p[i] == 0x2C { i += 1; skipSpace(); continue }
                    if p[i] == 0x7D { i += 1; break }
                    throw fail(.expectedCommaOrEndOfObject)
                }
            }
            nodes[at].end = Int32(i)
            nodes[at].next = Int32(nodes.count)
            if count > 1 { try checkUniqueKeys(nodes, object: at, count: count) }
        case 0x5B: // [
            guard depth < JSONTape.maximumDepth else { throw fail(.tooDeep) }
            nodes.append(JSONTape.Node(kind: .array, escaped: false, start: Int32(i), end: 0, next: 0, integer: 0))
            i += 1
            skipSpace()
            if i < n, p[i] == 0x5D {
                i += 1
            } else {
                while true {
                    try value(&nodes, depth: depth + 1)
                    skipSpace()
                    guard i < n else { throw fail(.unexpectedEnd) }
                    if p[i] == 0x2C { i += 1; skipSpace(); continue }
                    if p[i] == 0x5D { i += 1; break }
                    throw fail(.expectedCommaOrEndOfArray)
                }
            }
            nodes[at].end = Int32(i)
            nodes[at].next = Int32(nodes.count)
        case 0x22:
            try string(&nodes)
        case 0x74: try literal("true", .true, &nodes)
        case 0x66: try literal("false", .false, &nodes)
        case 0x6E: try literal("null", .null, &nodes)
        case 0x2D, 0x30...0x39: try number(&nodes)
        default: throw fail(.unexpectedCharacter)
        }
    }

    mutating func literal(_ word: StaticString, _ kind: JSONTape.Kind, _ nodes: inout [JSONTape.Node]) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        for k in 0..<count {
            guard i + k < n else { throw fail(.unexpectedEnd, at: n) }
            guard p[i + k] == word.utf8Start[k] else { throw fail(.badLiteral) }
        }
        nodes.append(JSONTape.Node(kind: kind, escaped: false, start: Int32(i), end: Int32(i + count), next: Int32(nodes.count + 1), integer: 0))
        i += count
    }

    @inline(__always) func digit(_ at: Int) -> Bool { at < n && p[at] &- 0x30 < 10 }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; integers that fit 64 bits keep
    /// their value.
    mutating func number(_ nodes: inout [JSONTape.Node]) throws(JSONSyntaxError) {
        let start = i
        let negative = p[i] == 0x2D
        if negative { i += 1 }
        guard digit(i) else { throw fail(i < n ? .badNumber : .unexpectedEnd) }
        var value: Int64 = 0
        var fits = true
        if p[i] == 0x30 {
            i += 1
            if digit(i) { throw fail(.leadingZero, at: i - 1) }
        } else {
            while digit(i) {
                let d = Int64(p[i] &- 0x30)
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (v, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                if o1 || o2 { fits = false }
                value = v
                i += 1
            }
        }
        var integral = true
        if i < n, p[i] == 0x2E {
            integral = false
            i += 1
            guard digit(i) else { throw fail(i < n ? .badNumber : .unexpectedEnd) }
            while digit(i) { i += 1 }
        }
        if i < n, p[i] == 0x65 || p[i] == 0x45 {
            integral = false
            i += 1
            if i < n, p[i] == 0x2B || p[i] == 0x2D { i += 1 }
            guard digit(i) else { throw fail(i < n ? .badNumber : .unexpectedEnd) }
            while digit(i) { i += 1 }
        }
        let isInteger = integral && fits
        nodes.append(JSONTape.Node(kind: isInteger ? .integer : .number, escaped: false, start: Int32(start), end: Int32(i),
                                   next: Int32(nodes.count + 1), integer: isInteger ? value : 0))
    }

    /// A string from its opening quote: valid UTF-8, no raw control characters, RFC escapes only.
    mutating func string(_ nodes: inout [JSONTape.Node]) throws(JSONSyntaxError) {
        i += 1
        let start = i
        var escaped = false
        while true {
            // Eight plain bytes at a time: no quote, backslash, control character or non-ASCII.
            while i + 8 <= n {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                if Scanner.special(v) != 0 { break }
                i += 8
            }
            guard i < n else { throw fail(.unexpectedEnd) }
            let c = p[i]
            if c == 0x22 { break }
            if c == 0x5C {
                escaped = true
                try escape()
            } else if c < 0x20 {
                throw fail(.controlCharacter)
            } else if c < 0x80 {
                i += 1
            } else {
                try utf8Sequence()
            }
        }
        nodes.append(JSONTape.Node(kind: .string, escaped: escaped, start: Int32(start), end: Int32(i), next: Int32(nodes.count + 1), integer: 0))
        i += 1
    }

    /// Non-zero when any of the 8 bytes is `"`, `\`, below 0x20 or above 0x7F. (A byte just
    /// above a flagged one may be flagged too; the caller then reads byte by byte.)
    @inline(__always) static func special(_ v: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func zeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & high }
        return zeroByte(v ^ (ones &* 0x22)) | zeroByte(v ^ (ones &* 0x5C)) | ((v &- ones &* 0x20) & ~v & high) | (v & high)
    }

    mutating func escape() throws(JSONSyntaxError) {
        i += 1
        guard i < n else { throw fail(.unexpectedEnd) }
        switch p[i] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
            i += 1
        case 0x75:
            let unit = try hex4(at: i + 1)
            i += 5
            if (0xD800..<0xDC00).contains(unit) {
                guard i + 1 < n, p[i] == 0x5C, p[i + 1] == 0x75 else { throw fail(.loneSurrogate, at: i - 6) }
                let low = try hex4(at: i + 2)
                guard (0xDC00..<0xE000).contains(low) else { throw fail(.loneSurrogate, at: i) }
                i += 6
            } else if (0xDC00..<0xE000).contains(unit) {
                throw fail(.loneSurrogate, at: i - 6)
            }
        default:
            throw fail(.badEscape, at: i - 1)
        }
    }

    func hex4(at at: Int) throws(JSONSyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 {
            guard at + k < n else { throw fail(.unexpectedEnd, at: n) }
            let c = p[at + k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x37
            case 0x61...0x66: d = c - 0x57
            default: throw fail(.badUnicodeEscape, at: at - 2)
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// One multi-byte UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
    mutating func utf8Sequence() throws(JSONSyntaxError) {
        let c = p[i]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw fail(.invalidUTF8)
        }
        guard i + length <= n else { throw fail(.invalidUTF8) }
        guard p[i + 1] >= low, p[i + 1] <= high else { throw fail(.invalidUTF8) }
        for k in 2..<max(2, length) where p[i + k] & 0xC0 != 0x80 { throw fail(.invalidUTF8) }
        i += length
    }

    /// Member names must differ: a name given twice would be read differently by different
    /// readers (first or last wins), which an attacker can use to show two readers two values.
    func checkUniqueKeys(_ nodes: [JSONTape.Node], object: Int, count: Int) throws(JSONSyntaxError) {
        var keys: [Int] = []
        keys.reserveCapacity(count)
        var k = object + 1
        while k < nodes.count, keys.count < count {
            keys.append(k)
            k = Int(nodes[k + 1].next)
        }
        if count <= 24 {
            for a in 1..<keys.count {
                for b in 0..<a where sameKey(nodes[keys[a]], nodes[keys[b]]) {
                    throw fail(.duplicateKey, at: Int(nodes[keys[a]].start) - 1)
                }
            }
        } else {
            var seen = Set<[UInt8]>()
            for k in keys where !seen.insert(decoded(nodes[k])).inserted {
                throw fail(.duplicateKey, at: Int(nodes[k].start) - 1)
            }
        }
    }

    func sameKey(_ a: JSONTape.Node, _ b: JSONTape.Node) -> Bool {
        if !a.escaped && !b.escaped {
            let la = Int(a.end - a.start)
            guard la == Int(b.end - b.start) else { return false }
            return memcmpEqual(p + Int(a.start), p + Int(b.start), la)
        }
        return decoded(a) == decoded(b)
    }

    func decoded(_ node: JSONTape.Node) -> [UInt8] {
        JSONTape.decodeString(UnsafeBufferPointer(start: p + Int(node.start), count: Int(node.end - node.start)), escaped: node.escaped)
    }
}

@inline(__always) func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for k in 0..<count where a[k] != b[k] { return false }
    return true
}
