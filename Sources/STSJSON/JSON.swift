/// A JSON value as a tree, for small documents (key files, command output) where convenience
/// beats speed; high-volume readers use ``JSONTape`` directly. Parsing is the tape's: strict
/// RFC 8259.
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

    /// Parses one JSON text strictly (``JSONTape``).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSON {
        var tape = JSONTape()
        try tape.parse(bytes)
        return tape.tree(tape.root)
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSON {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (b) throws(JSONSyntaxError) -> JSON in try parse(b) }
    }
}

/// A JSON object as its members in order. Objects here have a dozen keys at most, so a linear
/// search beats hashing every key (the reader refuses a key given twice).
public struct JSONObject: Equatable, Sendable, Sequence {
    public var pairs: [(key: String, value: JSON)] = []

    public init() {}

    public subscript(key: String) -> JSON? {
        for p in pairs where p.key == key { return p.value }
        return nil
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { pairs.makeIterator() }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        let keys = Set(a.pairs.map(\.key))
        return keys == Set(b.pairs.map(\.key)) && keys.allSatisfy { a[$0] == b[$0] }
    }
}

