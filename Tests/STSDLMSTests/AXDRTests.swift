import STSDLMS
import Testing

/// A value and its A-XDR bytes, worked out by hand from the Green Book's Data CHOICE.
struct AXDRCase: Sendable, CustomTestStringConvertible {
    let name: String
    let value: DataValue
    let bytes: [UInt8]
    var testDescription: String { name }
    init(_ name: String, _ value: DataValue, _ bytes: String) { self.name = name; self.value = value; self.bytes = hex(bytes) }

    static let all: [AXDRCase] = [
        AXDRCase("null-data", .null, "00"),
        AXDRCase("array of two long-unsigned", .array([.longUnsigned(1), .longUnsigned(2)]), "01 02 12 00 01 12 00 02"),
        AXDRCase("empty array", .array([]), "01 00"),
        AXDRCase("structure {integer 0, enum 30} (scaler_unit)", .structure([.integer(0), .enumerated(30)]), "02 02 0F 00 16 1E"),
        AXDRCase("structure: capture object", .structure([.longUnsigned(3), .octetString([1, 0, 1, 8, 0, 255]), .integer(2), .longUnsigned(0)]),
                 "02 04 12 00 03 09 06 01 00 01 08 00 FF 0F 02 12 00 00"),
        AXDRCase("nested structure and array", .structure([.octetString([1, 2]), .array([.null, .boolean(true)])]), "02 02 09 02 01 02 01 02 00 03 FF"),
        AXDRCase("boolean true", .boolean(true), "03 FF"),
        AXDRCase("boolean false", .boolean(false), "03 00"),
        AXDRCase("bit-string of 3 bits", .bitString(bytes: [0xA0], count: 3), "04 03 A0"),
        AXDRCase("bit-string of 16 bits", .bitString(bytes: [0x12, 0x34], count: 16), "04 10 12 34"),
        AXDRCase("double-long -2", .doubleLong(-2), "05 FF FF FF FE"),
        AXDRCase("double-long max", .doubleLong(Int32.max), "05 7F FF FF FF"),
        AXDRCase("double-long-unsigned 0x01020304", .doubleLongUnsigned(0x0102_0304), "06 01 02 03 04"),
        AXDRCase("octet-string: a logical name", .octetString([0, 0, 40, 0, 0, 255]), "09 06 00 00 28 00 00 FF"),
        AXDRCase("empty octet-string", .octetString([]), "09 00"),
        AXDRCase("visible-string", .visibleString("ABC"), "0A 03 41 42 43"),
        AXDRCase("utf8-string", .utf8String("é€"), "0C 05 C3 A9 E2 82 AC"),
        AXDRCase("integer -1", .integer(-1), "0F FF"),
        AXDRCase("long -300", .long(-300), "10 FE D4"),
        AXDRCase("unsigned 200", .unsigned(200), "11 C8"),
        AXDRCase("long-unsigned 0x1234", .longUnsigned(0x1234), "12 12 34"),
        AXDRCase("long64 -1", .long64(-1), "14 FF FF FF FF FF FF FF FF"),
        AXDRCase("long64-unsigned", .long64Unsigned(0x0102_0304_0506_0708), "15 01 02 03 04 05 06 07 08"),
        AXDRCase("enum 30 (Wh)", .enumerated(30), "16 1E"),
    ]
}

@Suite("A-XDR data: encodings, round trips and refusals")
struct AXDRTests {
    @Test("every DataValue case has a hand-computed case")
    func coverage() {
        #expect(Set(AXDRCase.all.map(\.value.tag)) == [0, 1, 2, 3, 4, 5, 6, 9, 10, 12, 15, 16, 17, 18, 20, 21, 22])
    }

    @Test("encode gives the hand-computed bytes and decode gives the value back", arguments: AXDRCase.all)
    func roundTrip(_ c: AXDRCase) throws {
        #expect(c.value.encoded == c.bytes)
        #expect(c.value.tag == c.bytes.first)
        #expect(try DataValue.decode(c.bytes) == c.value)
        var reader = ByteReader([0xEE] + c.bytes + [0xEE], start: 1)
        let embedded = try DataValue.decode(from: &reader)
        #expect(embedded == c.value)
        #expect(reader.remaining == 1, "decode(from:) stops at the value's end")
    }

    @Test("lengths of 128 and more take the long form (0x81 n, 0x82 hi lo)")
    func longForms() throws {
        let cases: [(DataValue, [UInt8])] = [
            (.octetString([UInt8](repeating: 0xAB, count: 127)), [0x09, 0x7F]),
            (.octetString([UInt8](repeating: 0xAB, count: 200)), [0x09, 0x81, 0xC8]),
            (.octetString([UInt8](repeating: 0xAB, count: 300)), [0x09, 0x82, 0x01, 0x2C]),
            (.visibleString(String(repeating: "a", count: 128)), [0x0A, 0x81, 0x80]),
            (.array([DataValue](repeating: .null, count: 130)), [0x01, 0x81, 0x82]),
        ]
        for (value, header) in cases {
            let bytes = value.encoded
            #expect(Array(bytes.prefix(header.count)) == header)
            #expect(try DataValue.decode(bytes) == value)
        }
        #expect(try DataValue.decode([0x09, 0x81, 0x02, 0x01, 0x02]) == .octetString([1, 2]), "a long form for a short length is read")
    }

    @Test("truncated input is refused", arguments: [
        "", "03", "05 00 00 00", "06 01 02 03", "09 05 01 02", "09 81", "0A 02 41", "10 01", "12 00",
        "14 00 00 00 00 00 00 00", "02 02 0F 00", "04 09 FF", "19 07 E8 01 01",
    ])
    func truncated(_ text: String) {
        #expect(throws: DLMSError.truncated) { try DataValue.decode(hex(text)) }
    }

    @Test("a count or length beyond the bytes left is refused before anything is allocated", arguments: [
        "01 05 00 00", "02 03 00", "02 81 FF 00", "01 82 FF FF", "01 84 FF FF FF FF", "09 84 7F FF FF FF 00", "0C 81 90 41",
    ])
    func lyingCount(_ text: String) {
        #expect(throws: DLMSError.truncated) { try DataValue.decode(hex(text)) }
    }

    /// `levels` arrays of one element around a null: the null sits at depth `levels`.
    static func nested(_ levels: Int) -> [UInt8] { [UInt8](repeating: 0x01, count: 2 * levels) + [0x00] } // 01 01 … 01 01 00

    @Test("nesting is bounded: depth 12 is read, depth 13 is refused, and deep input does not overflow the stack")
    func depth() throws {
        var expected = DataValue.null
        for _ in 0..<DataValue.maximumDepth { expected = .array([expected]) }
        #expect(try DataValue.decode(Self.nested(12)) == expected)
        #expect(throws: DLMSError.tooLarge("data nested deeper than 12")) { try DataValue.decode(Self.nested(13)) }
        #expect(throws: DLMSError.tooLarge("data nested deeper than 12")) { try DataValue.decode(Self.nested(100_000)) }
        let structures: [UInt8] = [UInt8](repeating: 0x02, count: 13).flatMap { b -> [UInt8] in [b, 0x01] } + [0x11, 0x05]
        #expect(throws: DLMSError.tooLarge("data nested deeper than 12")) { try DataValue.decode(structures) }
    }

    @Test("types this implementation does not read are refused by tag",
          arguments: [UInt8(7), 8, 11, 13, 14, 19, 23, 24, 26, 27, 28, 0x80, 0xFF])
    func unknownTag(_ tag: UInt8) {
        #expect(throws: DLMSError.unsupported("data type \(tag)")) { try DataValue.decode([tag] + [UInt8](repeating: 0, count: 16)) }
        #expect(throws: DLMSError.unsupported("data type \(tag)"), "inside a structure too") {
            try DataValue.decode([0x02, 0x02, 0x11, 0x01, tag, 0x00, 0x00, 0x00, 0x00])
        }
    }

    @Test("bytes after the value, strings that are not what they claim")
    func otherRefusals() {
        #expect(throws: DLMSError.malformed("1 bytes after the data")) { try DataValue.decode(hex("11 01 00")) }
        #expect(throws: DLMSError.malformed("visible-string with a non-printing byte")) { try DataValue.decode(hex("0A 01 0A")) }
        #expect(throws: DLMSError.malformed("visible-string with a non-printing byte")) { try DataValue.decode(hex("0A 02 C3 A9")) }
        #expect(throws: DLMSError.malformed("string is not UTF-8")) { try DataValue.decode(hex("0C 02 C3 28")) }
        #expect(throws: DLMSError.malformed("string is not UTF-8")) { try DataValue.decode(hex("0A 01 FF")) }
    }

    @Test("a date-time (tag 25) is kept as its 12 bytes")
    func dateTime() throws {
        let raw = hex("07 E8 03 0F 05 0C 1E 00 00 00 00 00")
        #expect(try DataValue.decode([0x19] + raw) == .octetString(raw))
    }

    @Test("accessors: integer value, items, octets")
    func accessors() {
        #expect(DataValue.long64Unsigned(UInt64.max).integerValue == nil)
        #expect(DataValue.long(-5).integerValue == -5 && DataValue.enumerated(30).integerValue == 30)
        #expect(DataValue.octetString([1]).integerValue == nil)
        #expect(DataValue.structure([.null]).items == [.null] && DataValue.unsigned(1).items == nil)
        #expect(DataValue.octetString([1, 2]).octets == [1, 2] && DataValue.visibleString("x").octets == nil)
    }
}

@Suite("ByteReader and the length encodings")
struct ByteReaderTests {
    static let lengths: [([UInt8], Int)] = [
        ([0x00], 0), ([0x7F], 127), ([0x81, 0x80], 128), ([0x81, 0xFF], 255), ([0x82, 0x01, 0x00], 256),
        ([0x83, 0x00, 0x01, 0x00], 256), ([0x84, 0x00, 0x00, 0x01, 0x00], 256), ([0x82, 0x01, 0x2C], 300),
    ]

    @Test("lengths: short form, and 0x81–0x84 followed by 1–4 big-endian bytes", arguments: lengths)
    func length(_ header: [UInt8], _ value: Int) throws {
        var reader = ByteReader(header + [UInt8](repeating: 0x55, count: value))
        let length = try reader.length()
        #expect(length == value)
        #expect(reader.offset == header.count && reader.remaining == value)
    }

    @Test("lengths that are not A-XDR or promise more than is left are refused")
    func badLengths() {
        func length(_ bytes: [UInt8]) throws(DLMSError) -> Int { var r = ByteReader(bytes); return try r.length() }
        #expect(throws: DLMSError.truncated) { try length([]) }
        #expect(throws: DLMSError.malformed("length of 0 bytes")) { try length([0x80, 0x00]) }
        #expect(throws: DLMSError.malformed("length of 5 bytes")) { try length([0x85, 0, 0, 0, 0, 1, 0]) }
        #expect(throws: DLMSError.malformed("length of 127 bytes")) { try length([0xFF]) }
        #expect(throws: DLMSError.truncated) { try length([0x82, 0x01]) }
        #expect(throws: DLMSError.truncated) { try length([0x81, 0x05, 1, 2, 3, 4]) }
        #expect(throws: DLMSError.truncated) { try length([0x84, 0xFF, 0xFF, 0xFF, 0xFF]) }
    }

    @Test("reads stay inside start..<end")
    func bounds() throws {
        var r = ByteReader([1, 2, 3, 4, 5], start: 1, end: 4)
        #expect(r.remaining == 3 && !r.isAtEnd)
        #expect(try r.peek() == 2)
        #expect(throws: DLMSError.truncated) { try r.take(4) }
        #expect(throws: DLMSError.truncated) { try r.take(-1) }
        let word = try r.uint16()
        #expect(word == 0x0203)
        #expect(throws: DLMSError.truncated) { try r.uint16() }
        let last = try r.byte()
        #expect(last == 4)
        #expect(r.isAtEnd)
        #expect(throws: DLMSError.truncated) { try r.byte() }
        #expect(throws: DLMSError.truncated) { try r.peek() }
        var whole = ByteReader([0xDE, 0xAD, 0xBE, 0xEF, 0x01])
        let dword = try whole.uint32()
        #expect(dword == 0xDEAD_BEEF)
        #expect(ByteReader([1, 2], end: 10).remaining == 2, "end is clamped to the bytes")
    }

    @Test("appendLength and appendBigEndian")
    func appending() {
        let lengths: [(Int, [UInt8])] = [(0, [0x00]), (127, [0x7F]), (128, [0x81, 0x80]), (255, [0x81, 0xFF]), (256, [0x82, 0x01, 0x00]),
                                         (65535, [0x82, 0xFF, 0xFF]), (65536, [0x84, 0x00, 0x01, 0x00, 0x00])]
        for (n, expected) in lengths {
            var out: [UInt8] = []
            out.appendLength(n)
            #expect(out == expected, "length \(n)")
        }
        var out: [UInt8] = []
        out.appendBigEndian(UInt16(0x0102))
        out.appendBigEndian(UInt32(0x401E5D), width: 3)
        out.appendBigEndian(Int8(-1))
        #expect(out == [0x01, 0x02, 0x40, 0x1E, 0x5D, 0xFF])
    }
}
