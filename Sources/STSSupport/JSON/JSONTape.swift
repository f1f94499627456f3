/// A strict JSON (RFC 8259) reader that records every value of one text as a flat list of
/// nodes (a "tape") pointing into the text, instead of building a tree of strings and arrays.
///
/// Strict means: only the four whitespace bytes, numbers as the RFC's grammar (no leading zeros,
/// no `+`, digits on both sides of `.`), strings of valid UTF-8 with no raw control characters
/// and only the RFC's escapes (`\u` with exactly four hex digits, surrogates in pairs), nesting
/// at most 32 deep, no member name twice in one object, nothing after the value. Anything else
/// is a ``JSONSyntaxError`` with the byte it was found at.
///
/// One tape is reused line after line: `parse` keeps its node storage, so reading a line
/// allocates nothing, and strings are decoded only when asked for. A tape is a reader, not a
/// value: copies share the storage, and the nodes point into the bytes given to ``parse(_:)``,
/// so read them only until the next `parse` and while those bytes are alive.
public struct JSONTape {
    /// The kinds of JSON value.
    public enum Kind: UInt8, Sendable {
        /// `integer`: a number with no fraction or exponent that fits 64 bits; `number`: any other
        /// number; the rest as their names say.
        case null, `false`, `true`, integer, number, string, array, object
    }

    /// One value: where its text is, where the next value after its subtree starts, and for a
    /// member of an object, where its name is.
    public struct Node: Sendable {
        /// What kind of value this node is.
        public var kind: Kind
        /// A string whose text holds backslash escapes (decoded on demand).
        var escaped: Bool
        /// The member name holds backslash escapes.
        var keyEscaped: Bool
        /// The value's first byte (strings: the byte after the opening quote).
        public var start: Int32
        /// One past the value's last byte (strings: the closing quote).
        public var end: Int32
        /// The index of the node after this value and everything inside it.
        public var next: Int32
        /// A member's name, between its quotes; -1 for values that are not members.
        var keyStart: Int32
        var keyEnd: Int32
        /// The value of an `.integer` node (numbers without fraction or exponent that fit 64 bits).
        public var integer: Int64
    }

    /// Node memory, kept from line to line.
    final class Storage {
        var base: UnsafeMutablePointer<Node>
        var capacity: Int
        init(capacity: Int) {
            base = .allocate(capacity: capacity)
            self.capacity = capacity
        }
        deinit { base.deallocate() }
    }

    /// The deepest nesting accepted.
    public static let maximumDepth = 32

    let storage = Storage(capacity: 64)
    /// The number of nodes of the last text parsed.
    public private(set) var count = 0
    /// Whether whitespace appeared outside strings (formats with a fixed layout refuse it).
    public private(set) var sawWhitespace = false
    /// The text the nodes point into (valid while the caller keeps it alive).
    public private(set) var text = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    /// An empty tape with room for 64 nodes; it grows as longer texts are parsed.
    public init() {}

    /// The root value's node index (0) once ``parse(_:)`` succeeded.
    public var root: Int { 0 }

    @inline(__always) var nodes: UnsafeMutablePointer<Node> { storage.base }

    /// One node of the last text parsed.
    public func node(_ index: Int) -> Node {
        precondition(index >= 0 && index < count, "node index out of range")
        return nodes[index]
    }

    /// Reads one JSON text; on success the nodes describe it, the root first.
    public mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) {
        count = 0
        sawWhitespace = false
        text = bytes
        guard bytes.count < Int(Int32.max) else { throw JSONSyntaxError(offset: 0, reason: .tooLarge) }
        guard let p = bytes.baseAddress, bytes.count > 0 else { throw JSONSyntaxError(offset: 0, reason: .unexpectedEnd) }
        // Every value takes a byte and every two values a separator: n/2 + 2 nodes suffice for
        // any text that parses; a refused text may have opened up to `maximumDepth` containers
        // that never closed, one byte each.
        let needed = bytes.count / 2 + 2 + JSONTape.maximumDepth
        if storage.capacity < needed {
            storage.base.deallocate()
            storage.capacity = max(needed, storage.capacity * 2)
            storage.base = .allocate(capacity: storage.capacity)
        }
        var s = Scanner(p: p, n: bytes.count, nodes: storage.base, capacity: storage.capacity)
        s.skipSpace()
        try s.value(depth: 0, keyStart: -1, keyEnd: -1, keyEscaped: false)
        s.skipSpace()
        guard s.i == s.n else { throw JSONSyntaxError(offset: s.i, reason: .trailingText) }
        count = s.count
        sawWhitespace = s.sawWhitespace
    }
}

/// The byte-level reader behind ``JSONTape``: raw pointers, no allocation.
struct Scanner {
    let p: UnsafePointer<UInt8>
    let n: Int
    let nodes: UnsafeMutablePointer<JSONTape.Node>
    let capacity: Int
    var i = 0
    var count = 0
    var sawWhitespace = false

    init(p: UnsafePointer<UInt8>, n: Int, nodes: UnsafeMutablePointer<JSONTape.Node>, capacity: Int) {
        self.p = p
        self.n = n
        self.nodes = nodes
        self.capacity = capacity
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

    /// Appends a node; the capacity bound of `parse` makes running out impossible, and the
    /// check keeps it so.
    @inline(__always) mutating func append(_ kind: JSONTape.Kind, start: Int, end: Int, escaped: Bool = false, integer: Int64 = 0,
                                           keyStart: Int32, keyEnd: Int32, keyEscaped: Bool) {
        precondition(count < capacity, "JSON node bound")
        nodes[count] = JSONTape.Node(kind: kind, escaped: escaped, keyEscaped: keyEscaped, start: Int32(truncatingIfNeeded: start),
                                     end: Int32(truncatingIfNeeded: end), next: Int32(truncatingIfNeeded: count + 1),
                                     keyStart: keyStart, keyEnd: keyEnd, integer: integer)
        count += 1
    }

    @inline(__always) mutating func value(depth: Int, keyStart: Int32, keyEnd: Int32, keyEscaped: Bool) throws(JSONSyntaxError) {
        guard i < n else { throw fail(.unexpectedEnd) }
        let c = p[i]
        switch c {
        case 0x22:
            let (start, escaped) = try string()
            append(.string, start: start, end: i - 1, escaped: escaped, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        case 0x2D, 0x30...0x39:
            try number(keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        case 0x7B:
            try object(depth: depth, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        case 0x5B:
            try array(depth: depth, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        case 0x74: try literal("true", .true, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        case 0x66: try literal("false", .false, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        case 0x6E: try literal("null", .null, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        default: throw fail(.unexpectedCharacter)
        }
    }

    mutating func object(depth: Int, keyStart: Int32, keyEnd: Int32, keyEscaped: Bool) throws(JSONSyntaxError) {
        guard depth < JSONTape.maximumDepth else { throw fail(.tooDeep) }
        let at = count
        append(.object, start: i, end: 0, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        i += 1
        skipSpace()
        var members = 0
        if i < n, p[i] == 0x7D {
            i += 1
        } else {
            while true {
                guard i < n, p[i] == 0x22 else { throw fail(i < n ? .expectedKey : .unexpectedEnd) }
                let (nameStart, nameEscaped) = try string()
                let nameEnd = i - 1
                skipSpace()
                guard i < n, p[i] == 0x3A else { throw fail(i < n ? .expectedColon : .unexpectedEnd) }
                i += 1
                skipSpace()
                try value(depth: depth + 1, keyStart: Int32(truncatingIfNeeded: nameStart), keyEnd: Int32(truncatingIfNeeded: nameEnd),
                          keyEscaped: nameEscaped)
                members += 1
                skipSpace()
                guard i < n else { throw fail(.unexpectedEnd) }
                if p[i] == 0x2C { i += 1; skipSpace(); continue }
                if p[i] == 0x7D { i += 1; break }
                throw fail(.expectedCommaOrEndOfObject)
            }
        }
        nodes[at].end = Int32(truncatingIfNeeded: i)
        nodes[at].next = Int32(truncatingIfNeeded: count)
        if members > 1 { try checkUniqueKeys(object: at, members: members) }
    }

    mutating func array(depth: Int, keyStart: Int32, keyEnd: Int32, keyEscaped: Bool) throws(JSONSyntaxError) {
        guard depth < JSONTape.maximumDepth else { throw fail(.tooDeep) }
        let at = count
        append(.array, start: i, end: 0, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        i += 1
        skipSpace()
        if i < n, p[i] == 0x5D {
            i += 1
        } else {
            while true {
                try value(depth: depth + 1, keyStart: -1, keyEnd: -1, keyEscaped: false)
                skipSpace()
                guard i < n else { throw fail(.unexpectedEnd) }
                if p[i] == 0x2C { i += 1; skipSpace(); continue }
                if p[i] == 0x5D { i += 1; break }
                throw fail(.expectedCommaOrEndOfArray)
            }
        }
        nodes[at].end = Int32(truncatingIfNeeded: i)
        nodes[at].next = Int32(truncatingIfNeeded: count)
    }

    @inline(__always) mutating func literal(_ word: StaticString, _ kind: JSONTape.Kind, keyStart: Int32, keyEnd: Int32, keyEscaped: Bool) throws(JSONSyntaxError) {
        let length = word.utf8CodeUnitCount
        for k in 0..<length {
            guard i + k < n else { throw fail(.unexpectedEnd, at: n) }
            guard p[i + k] == word.utf8Start[k] else { throw fail(.badLiteral) }
        }
        append(kind, start: i, end: i + length, keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
        i += length
    }

    @inline(__always) func digit(_ at: Int) -> Bool { at < n && p[at] &- 0x30 < 10 }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; integers that fit 64 bits keep
    /// their value.
    @inline(__always) mutating func number(keyStart: Int32, keyEnd: Int32, keyEscaped: Bool) throws(JSONSyntaxError) {
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
                fits = fits && !o1 && !o2
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
        append(isInteger ? .integer : .number, start: start, end: i, integer: isInteger ? value : 0,
               keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped)
    }

    /// A string from its opening quote to just past its closing one: valid UTF-8, no raw
    /// control characters, RFC escapes only. Returns where its text starts and whether it has
    /// escapes; its text ends at `i - 1`.
    @inline(__always) mutating func string() throws(JSONSyntaxError) -> (Int, Bool) {
        i += 1
        let start = i
        var escaped = false
        while true {
            // Eight plain bytes at a time: no quote, backslash, control character or non-ASCII.
            while i + 8 <= n {
                let v = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                let special = Scanner.special(v)
                if special != 0 {
                    // Skip the plain bytes before the first flagged one.
                    #if _endian(little)
                    i += special.trailingZeroBitCount >> 3
                    #endif
                    break
                }
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
        i += 1
        return (start, escaped)
    }

    /// Non-zero when any of the 8 bytes is `"`, `\`, below 0x20 or above 0x7F; the lowest set
    /// bit is in the first such byte. (Bytes after it may be flagged wrongly; they are read
    /// one by one.)
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
}
