/// Appends compact JSON to a byte buffer, in the order fields are written.
public struct JSONLineWriter {
    /// The JSON written so far, as UTF-8.
    public private(set) var bytes: [UInt8] = []
    var first = true

    /// An empty writer, with room for a typical line reserved.
    public init() { bytes.reserveCapacity(256) }

    /// Opens the top-level object (`{`).
    public mutating func begin() { bytes.append(123); first = true }
    /// Closes the top-level object and ends the line (`}` and a newline): one JSON-lines record.
    public mutating func end() { bytes.append(125); bytes.append(10) }
    /// Closes the object without a line end (for JSON embedded in other text).
    public mutating func close() { bytes.append(125) }

    /// Writes a member name (and the comma before it): the start of a field written by hand.
    public mutating func key(_ k: String) {
        if !first { bytes.append(44) }
        first = false
        appendString(k)
        bytes.append(58)
    }

    /// A string field; quotes, backslashes and control characters are escaped.
    public mutating func field(_ k: String, _ v: String) { key(k); appendString(v) }
    /// An integer field.
    public mutating func field(_ k: String, _ v: Int) { key(k); appendInteger(v) }
    /// An unsigned 64-bit integer field.
    public mutating func field(_ k: String, _ v: UInt64) { key(k); appendUnsigned(v) }
    /// A 128-bit integer field (exact sums of money and units).
    public mutating func field(_ k: String, _ v: Int128) { key(k); bytes.append(contentsOf: String(v).utf8) }
    /// A `true` or `false` field.
    public mutating func field(_ k: String, _ v: Bool) { key(k); bytes.append(contentsOf: (v ? "true" : "false").utf8) }
    /// A field holding an array of strings.
    public mutating func field(_ k: String, _ v: [String]) {
        key(k)
        bytes.append(91)
        for (n, s) in v.enumerated() { if n > 0 { bytes.append(44) }; appendString(s) }
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

    /// Decimal digits written straight into the buffer (no intermediate string).
    mutating func appendUnsigned(_ v: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var n = 0
        var x = v
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[23 - n] = UInt8(truncatingIfNeeded: x % 10) &+ 48
                x /= 10
                n += 1
            } while x > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[(24 - n)...]))
        }
    }

    mutating func appendInteger(_ v: Int) {
        if v < 0 { bytes.append(45) }
        appendUnsigned(v.magnitude.toUInt64)
    }

    mutating func appendString(_ s: String) {
        bytes.append(34)
        var text = s
        let plain = text.withUTF8 { u -> Bool in
            for c in u where c < 32 || c == 34 || c == 92 { return false }
            bytes.append(contentsOf: u)
            return true
        }
        if plain {
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

    /// Empties the buffer, keeping its capacity, to write the next line without allocating.
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    /// Appends bytes already encoded as JSON text (trusted, written as is).
    public mutating func appendRaw(_ raw: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: raw) }

    /// Appends punctuation or other literal JSON text.
    public mutating func appendRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `count` bytes that `body` writes in place (digits without intermediate strings).
    public mutating func appendInPlace(count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
        let at = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBufferPointer { body($0.baseAddress! + at) }
    }
}

extension UInt {
    @inline(__always) var toUInt64: UInt64 { UInt64(self) }
}
