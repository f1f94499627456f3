/// A COSEM data value in its A-XDR encoding (DLMS UA Green Book, "Data" CHOICE): the tag byte
/// names the type, then the value, big-endian; arrays and structures carry a count.
public indirect enum DataValue: Equatable, Sendable {
    case null
    case array([DataValue])
    case structure([DataValue])
    case boolean(Bool)
    /// A bit string: `count` bits, packed MSB first into `bytes`.
    case bitString(bytes: [UInt8], count: Int)
    case doubleLong(Int32)
    case doubleLongUnsigned(UInt32)
    case octetString([UInt8])
    case visibleString(String)
    case utf8String(String)
    case integer(Int8)
    case long(Int16)
    case unsigned(UInt8)
    case longUnsigned(UInt16)
    case long64(Int64)
    case long64Unsigned(UInt64)
    case enumerated(UInt8)

    /// The deepest nesting of arrays and structures accepted from a peer.
    public static let maximumDepth = 12

    /// The type tag.
    public var tag: UInt8 {
        switch self {
        case .null: return 0
        case .array: return 1
        case .structure: return 2
        case .boolean: return 3
        case .bitString: return 4
        case .doubleLong: return 5
        case .doubleLongUnsigned: return 6
        case .octetString: return 9
        case .visibleString: return 10
        case .utf8String: return 12
        case .integer: return 15
        case .long: return 16
        case .unsigned: return 17
        case .longUnsigned: return 18
        case .long64: return 20
        case .long64Unsigned: return 21
        case .enumerated: return 22
        }
    }

    /// The A-XDR bytes of this value (tag included).
    public var encoded: [UInt8] { var out: [UInt8] = []; encode(into: &out); return out }

    /// Appends the A-XDR bytes of this value (tag included).
    public func encode(into out: inout [UInt8]) {
        out.append(tag)
        switch self {
        case .null: break
        case .array(let items), .structure(let items):
            out.appendLength(items.count)
            for item in items { item.encode(into: &out) }
        case .boolean(let b): out.append(b ? 0xFF : 0x00)
        case .bitString(let bytes, let count): out.appendLength(count); out.append(contentsOf: bytes)
        case .doubleLong(let v): out.appendBigEndian(v)
        case .doubleLongUnsigned(let v): out.appendBigEndian(v)
        case .octetString(let b): out.appendLength(b.count); out.append(contentsOf: b)
        case .visibleString(let s), .utf8String(let s):
            let b = Array(s.utf8); out.appendLength(b.count); out.append(contentsOf: b)
        case .integer(let v): out.appendBigEndian(v)
        case .long(let v): out.appendBigEndian(v)
        case .unsigned(let v): out.append(v)
        case .longUnsigned(let v): out.appendBigEndian(v)
        case .long64(let v): out.appendBigEndian(v)
        case .long64Unsigned(let v): out.appendBigEndian(v)
        case .enumerated(let v): out.append(v)
        }
    }

    /// Reads one value (tag included) from a peer's bytes, bounded in depth and by the bytes left.
    public static func decode(from reader: inout ByteReader, depth: Int = 0) throws(DLMSError) -> DataValue {
        guard depth <= maximumDepth else { throw .tooLarge("data nested deeper than \(maximumDepth)") }
        let tag = try reader.byte()
        switch tag {
        case 0: return .null
        case 1, 2:
            let count = try reader.length()
            // Every element takes at least one byte: a count beyond the bytes left is a lie.
            guard count <= reader.remaining else { throw .truncated }
            var items: [DataValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try decode(from: &reader, depth: depth + 1)) }
            return tag == 1 ? .array(items) : .structure(items)
        case 3: return .boolean(try reader.byte() != 0)
        case 4:
            let bits = try reader.count()
            return .bitString(bytes: try reader.take((bits + 7) / 8), count: bits)
        case 5: return .doubleLong(Int32(bitPattern: try reader.uint32()))
        case 6: return .doubleLongUnsigned(try reader.uint32())
        case 9: return .octetString(try reader.take(try reader.length()))
        case 10, 12:
            let bytes = try reader.take(try reader.length())
            guard let s = String(validating: bytes, as: UTF8.self) else { throw .malformed("string is not UTF-8") }
            if tag == 10, bytes.contains(where: { $0 < 0x20 || $0 > 0x7E }) { throw .malformed("visible-string with a non-printing byte") }
            return tag == 10 ? .visibleString(s) : .utf8String(s)
        case 15: return .integer(Int8(bitPattern: try reader.byte()))
        case 16: return .long(Int16(bitPattern: try reader.uint16()))
        case 17: return .unsigned(try reader.byte())
        case 18: return .longUnsigned(try reader.uint16())
        case 20: return .long64(Int64(bitPattern: try reader.unsigned(8)))
        case 21: return .long64Unsigned(try reader.unsigned(8))
        case 22: return .enumerated(try reader.byte())
        case 25: return .octetString(try reader.take(12)) // date-time, kept as its 12 bytes
        default: throw .unsupported("data type \(tag)")
        }
    }

    /// Decodes exactly one value that fills `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(DLMSError) -> DataValue {
        var reader = ByteReader(bytes)
        let value = try decode(from: &reader)
        guard reader.isAtEnd else { throw .malformed("\(reader.remaining) bytes after the data") }
        return value
    }

    /// The value as a signed integer when it is one of the integer types (or an enum).
    public var integerValue: Int64? {
        switch self {
        case .doubleLong(let v): return Int64(v)
        case .doubleLongUnsigned(let v): return Int64(v)
        case .integer(let v): return Int64(v)
        case .long(let v): return Int64(v)
        case .unsigned(let v): return Int64(v)
        case .longUnsigned(let v): return Int64(v)
        case .long64(let v): return v
        case .long64Unsigned(let v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        case .enumerated(let v): return Int64(v)
        default: return nil
        }
    }

    /// The items of an array or structure.
    public var items: [DataValue]? {
        switch self { case .array(let i), .structure(let i): return i; default: return nil }
    }

    /// The bytes of an octet-string.
    public var octets: [UInt8]? { if case .octetString(let b) = self { return b }; return nil }
}
