import STSSupport
import Testing

struct JSONTreeTests {
    @Test("parses the batch shapes, escapes and unicode")
    func parse() throws {
        let j = try JSON.parse(#"{"id": "a\"b\\c\n\u00e9\ud83d\ude00", "n": -12, "x": 1.5e3, "t": true, "z": null, "a": [1, "2", {}], "o": {"k": "v"}}"#)
        #expect(j["id"]?.string == "a\"b\\c\n\u{e9}\u{1F600}")
        #expect(j["n"]?.integer == -12)
        #expect(j["x"] == .number("1.5e3"))
        #expect(j["t"]?.bool == true && j["z"] == .null)
        #expect(j["o"]?["k"]?.string == "v")
        #expect(throws: JSONSyntaxError(offset: 9, reason: .duplicateKey), "a name given twice is refused: readers disagree on which wins") {
            try JSON.parse(#"{"k": 1, "k": 2}"#)
        }
    }

    @Test("refuses malformed text with a position")
    func refuse() {
        for bad in ["", "{", "{\"a\" 1}", "{\"a\": 1,}", "[1 2]", "{\"a\": tru}", "{\"a\": \"x}", "{} x", "{\"a\": -}", String(repeating: "[", count: 40)] {
            #expect(throws: JSONSyntaxError.self) { try JSON.parse(bad) }
        }
    }

    @Test("the writer escapes what it must and round-trips through the reader")
    func writer() throws {
        var w = JSONLineWriter()
        w.begin()
        w.field("s", "quote \" backslash \\ newline \n tab \t bell \u{7}")
        w.field("n", 42)
        w.field("b", false)
        w.field("l", ["x", "y"])
        w.object("o") { $0.field("k", "v") }
        w.end()
        #expect(w.bytes.last == 10)
        let back = try JSON.parse(String(decoding: w.bytes.dropLast(), as: UTF8.self))
        #expect(back["s"]?.string == "quote \" backslash \\ newline \n tab \t bell \u{7}")
        #expect(back["n"]?.integer == 42 && back["b"]?.bool == false && back["o"]?["k"]?.string == "v")
    }
}
