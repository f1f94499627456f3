import Foundation
import STSSupport
import STSTestFixtures
import Testing

/// One case of `Fixtures/json/strict-json-cases.json`.
struct StrictCase: Decodable, CustomTestStringConvertible, Sendable {
    let name: String
    let hex: String
    let accept: Bool
    let offset: Int?
    let reason: String?
    var testDescription: String { name }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16)!) }
        return out
    }

    static let all: [StrictCase] = {
        struct File: Decodable { let cases: [StrictCase] }
        let url = PublicVectors.root.appendingPathComponent("Fixtures/json/strict-json-cases.json")
        return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases) ?? []
    }()
}

struct StrictJSONTests {
    @Test("the fixture cases are there")
    func fixtureLoaded() { #expect(StrictCase.all.count >= 60) }

    @Test("RFC 8259 text is accepted; everything else stops at the byte the case names", arguments: StrictCase.all)
    func strictness(_ c: StrictCase) {
        var tape = JSONTape()
        let bytes = c.bytes
        let result = bytes.withUnsafeBufferPointer { b in Result { () throws(JSONSyntaxError) in try tape.parse(b) } }
        if c.accept {
            #expect(throws: Never.self) { try result.get() }
        } else {
            #expect(throws: JSONSyntaxError(offset: c.offset ?? -1, reason: JSONSyntaxError.Reason(caseName: c.reason ?? "") ?? .tooLarge)) {
                try result.get()
            }
        }
    }

    @Test("values read off the tape: integers exact, big numbers kept as text, names found through escapes")
    func reading() throws {
        let text = Array(#"{"n":-9223372036854775808,"big":18446744073709551616,"f":1.5,"s":"a\u00e9\n","\u0074":true,"arr":[1,[2,3],{"x":null}]}"#.utf8)
        var tape = JSONTape()
        try text.withUnsafeBufferPointer { b in
            try tape.parse(b)
            let root = tape.root
            #expect(tape.integer(tape.member(root, "n")!) == Int64.min)
            let big = tape.member(root, "big")!
            #expect(tape.kind(big) == .number && tape.integer(big) == nil)
            #expect(String(decoding: tape.rawBytes(big), as: UTF8.self) == "18446744073709551616")
            #expect(tape.integer(tape.member(root, "f")!) == nil)
            let s = tape.member(root, "s")!
            #expect(tape.string(s) == "a\u{e9}\n" && tape.plainBytes(s) == nil, "escaped strings are decoded, never handed out raw")
            #expect(tape.bool(tape.member(root, "t")!) == true, "a name written with an escape is found by its text")
            let arr = tape.member(root, "arr")!
            #expect(tape.count(arr) == 3)
            var kinds: [JSONTape.Kind] = []
            tape.forEachElement(arr) { kinds.append(tape.kind($0)) }
            #expect(kinds == [.integer, .array, .object])
            #expect(tape.member(root, "missing") == nil && tape.member(arr, "x") == nil)
            #expect(!tape.sawWhitespace)
        }
        let spaced = Array(#"{ "a": 1 }"#.utf8)
        try spaced.withUnsafeBufferPointer { try tape.parse($0) }
        #expect(tape.sawWhitespace, "formats with a fixed layout can refuse whitespace")
    }

    @Test("one tape reads line after line, and a failed line leaves nothing behind")
    func reuse() throws {
        var tape = JSONTape()
        for k in 0..<100 {
            let line = Array(#"{"k":\#(k),"s":"\#(String(repeating: "x", count: k))"}"#.utf8)
            try line.withUnsafeBufferPointer { b in
                try tape.parse(b)
                #expect(tape.integer(tape.member(tape.root, "k")!) == Int64(k))
                #expect(tape.string(tape.member(tape.root, "s")!)?.count == k)
            }
            let bad = Array(#"{"k":0\#(k)}"#.utf8)
            #expect(throws: JSONSyntaxError.self) { try bad.withUnsafeBufferPointer { try tape.parse($0) } }
        }
    }

    @Test("refused texts that open many containers never run out of nodes (fresh and reused tapes)")
    func openContainers() {
        for n in [0, 1, 46, 200, 5000] {
            let text = Array(("[" + String(repeating: "1,", count: n) + String(repeating: "[", count: 31)).utf8)
            var tape = JSONTape()
            #expect(throws: JSONSyntaxError.self) { try text.withUnsafeBufferPointer { try tape.parse($0) } }
            let deeper = Array((String(repeating: "{\"a\":", count: 31) + "[").utf8)
            #expect(throws: JSONSyntaxError.self) { try deeper.withUnsafeBufferPointer { try tape.parse($0) } }
        }
    }

    @Test("a lookup in an empty object finds nothing, even with a cursor")
    func emptyObject() throws {
        let text = Array(#"{"meter":{},"pan":"600727000000000009"}"#.utf8)
        var tape = JSONTape()
        try text.withUnsafeBufferPointer { b in
            try tape.parse(b)
            let meter = tape.member(tape.root, "meter")!
            let cursor = MemberCursor()
            cursor.start(meter)
            #expect(tape.member(meter, "pan", cursor: cursor) == nil && tape.member(meter, "pan") == nil)
        }
    }

    @Test("names given many times are caught in large objects too")
    func duplicatesInLargeObjects() {
        let members = (0..<100).map { "\"k\($0)\":\($0)" } + ["\"k7\":0"]
        let text = "{" + members.joined(separator: ",") + "}"
        #expect(throws: JSONSyntaxError.self) { try JSON.parse(text) }
        #expect(throws: Never.self) { try JSON.parse("{" + members.dropLast().joined(separator: ",") + "}") }
    }
}

extension JSONSyntaxError.Reason {
    /// The reason named as in the fixture file (the Swift case name).
    init?(caseName: String) {
        let all: [JSONSyntaxError.Reason] = [.unexpectedEnd, .unexpectedCharacter, .expectedKey, .expectedColon, .expectedCommaOrEndOfObject,
                                             .expectedCommaOrEndOfArray, .trailingText, .controlCharacter, .invalidUTF8, .badEscape,
                                             .badUnicodeEscape, .loneSurrogate, .leadingZero, .badNumber, .badLiteral, .tooDeep,
                                             .duplicateKey, .tooLarge]
        guard let r = all.first(where: { "\($0)" == caseName }) else { return nil }
        self = r
    }
}
