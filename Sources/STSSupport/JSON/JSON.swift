/// A JSON value as a tree, for small documents (key files, command output) where convenience
/// beats speed; high-volume readers use ``JSONTape`` directly. Parsing is the tape's: strict
/// RFC 8259.
public enum JSON: Equatable, Sendable {
    /// The literal `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// Integers that fit 64 bits keep their exact value.
    case integer(Int64)
    /// Other numbers keep their text, so nothing is lost to binary floating point.
    case number(String)
    /// A string, with its escapes decoded.
    case string(String)
    /// An array, its elements in order.
    case array([JSON])
    /// An object, its members in the order they were written.
    case object(JSONObject)

    /// The member `key` of an object; nil when absent or when this value is not an object.
    public subscript(key: String) -> JSON? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    /// The text of a string value; nil for any other kind.
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    /// The value of an integer that fits 64 bits; nil for other numbers and other kinds.
    public var integer: Int64? { if case let .integer(i) = self { return i } else { return nil } }
    /// The value of `true` or `false`; nil for any other kind.
    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    /// The members of an object; nil for any other kind.
    public var object: JSONObject? { if case let .object(o) = self { return o } else { return nil } }
    /// The elements of an array; nil for any other kind.
    public var array: [JSON]? { if case let .array(a) = self { return a } else { return nil } }

    /// Parses one JSON text strictly (``JSONTape``).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSON {
        var tape = JSONTape()
        try tape.parse(bytes)
        return tape.tree(tape.root)
    }

    /// Parses one JSON text held in a string, with the same strict rules.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSON {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (b) throws(JSONSyntaxError) -> JSON in try parse(b) }
    }
}

/// A JSON object as its members in order. Objects here have a dozen keys at most, so a linear
/// search beats hashing every key (the reader refuses a key given twice).
public struct JSONObject: Equatable, Sendable, Sequence {
    /// The members in the order they were read or added.
    public var pairs: [(key: String, value: JSON)] = []

    /// An empty object.
    public init() {}

    /// The value of member `key`; nil when there is none.
    public subscript(key: String) -> JSON? {
        for p in pairs where p.key == key { return p.value }
        return nil
    }

    /// Iterates the members in order.
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { pairs.makeIterator() }

    /// Objects are equal when they have the same member names with equal values, in any order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        let keys = Set(a.pairs.map(\.key))
        return keys == Set(b.pairs.map(\.key)) && keys.allSatisfy { a[$0] == b[$0] }
    }
}

