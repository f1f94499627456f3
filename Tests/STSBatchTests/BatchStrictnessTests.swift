import Foundation
import STSBatch
import STSCrypto
import Testing

/// Batch requests are read strictly, and a bad line says which line and byte is wrong.
struct BatchStrictnessTests {
    static let meter = #""meter":{"pan":"600727000000000009","sgc":"123456","ti":1,"krn":1,"kt":2,"ken":255,"base_date":1993,"dkga":2,"ea":7,"vending_key":"k0"}"#

    static func vending() throws -> BatchVending {
        BatchVending(keys: ["k0": try VendingKey(hex: "ABABABABABABABAB")], now: { 1_700_000_000 })
    }

    static func result(_ line: [UInt8], lineNumber: Int = 7) throws -> [String: Any] {
        var v = try vending()
        var out = JSONLineWriter()
        line.withUnsafeBufferPointer { _ = v.process(line: $0, lineNumber: lineNumber, into: &out) }
        #expect(out.bytes.last == 10)
        return try JSONSerialization.jsonObject(with: Data(out.bytes)) as? [String: Any] ?? [:]
    }

    static func credit(id: String = #""r1""#, extra: String = "") -> String {
        #"{"id":\#(id),"type":"credit",\#(meter),"subclass":"electricity","tid":1000,"units":10,"rnd":5\#(extra)}"#
    }

    @Test("a valid request still issues its token; the id comes back exactly as written")
    func valid() throws {
        let r = try Self.result(Array(Self.credit().utf8))
        #expect(r["ok"] as? Bool == true && r["id"] as? String == "r1" && r["tid"] as? Int == 1000)
        let nested = try Self.result(Array(Self.credit(id: #"{"batch":[1,2],"n":"\u00e9"}"#).utf8))
        #expect((nested["id"] as? [String: Any])?["n"] as? String == "\u{e9}")
    }

    @Test("invalid UTF-8, raw control characters, NUL and bad \\u escapes are refused with line and byte",
          arguments: [
              (Array(Self.credit(id: "\"r\u{1}\"").utf8), 9, "raw control character"),
              (Array(Self.credit(id: "\"r\0\"").utf8), 9, "raw control character"),
              (Array(#"{"id":"\u+123","type":"credit"}"#.utf8), 8, "4 hexadecimal digits"),
              (Array(#"{"id":"r"#.utf8) + [0xC3, 0x28] + Array(#"","type":"credit"}"#.utf8), 9, "invalid UTF-8"),
              (Array(#"{"id":"r","tid":0100}"#.utf8), 17, "leading zero"),
              (Array(#"{"id":"r","id":"s"}"#.utf8), 11, "appears twice"),
          ])
    func refused(_ line: [UInt8], byte: Int, words: String) throws {
        let r = try Self.result(line)
        let error = r["error"] as? [String: Any]
        let message = error?["message"] as? String ?? ""
        #expect(r["ok"] as? Bool == false && error?["code"] as? String == "bad-request")
        #expect(message.hasPrefix("line 7, invalid JSON at byte \(byte): "), "\(message)")
        #expect(message.contains(words), "\(message)")
        #expect(r["id"] is NSNull, "an unreadable line's id is not guessed")
    }

    @Test("the runner keeps input order with every core working, and counts failures")
    func parallelOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("batch-order-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = dir.appendingPathComponent("keys.json"), input = dir.appendingPathComponent("in.jsonl"), output = dir.appendingPathComponent("out.jsonl")
        FileManager.default.createFile(atPath: keys.path, contents: Data(#"{"k0":"abababababababab"}"#.utf8), attributes: [.posixPermissions: 0o600])
        var text = ""
        for i in 0..<20_000 {
            // Every 97th line is broken; the rest issue TIDs that tell their line.
            text += i % 97 == 0 ? "{\"id\":\(i),\"type\":\n" : #"{"id":\#(i),"type":"credit",\#(Self.meter),"subclass":"electricity","tid":\#(2 * i + 2),"units":1,"rnd":1}"# + "\n"
        }
        try Data(text.utf8).write(to: input)
        let summary = try BatchRunner.run(keysPath: keys.path, inputPath: input.path, outputPath: output.path, workers: 2,
                                          showProgress: false, now: { 1_700_000_000 })
        let broken = (0..<20_000).filter { $0 % 97 == 0 }.count
        #expect(summary.failed == broken && summary.succeeded == 20_000 - broken)
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 20_000)
        for (i, line) in lines.enumerated() {
            let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            if i % 97 == 0 {
                #expect((r["error"] as? [String: Any])?["message"] as? String == "line \(i + 1), invalid JSON at byte \(15 + String(i).count): the text ends inside a value")
            } else {
                #expect(r["id"] as? Int == i && r["tid"] as? Int == 2 * i + 2)
            }
        }
        let mode = try FileManager.default.attributesOfItem(atPath: output.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("an over-long line is answered in its place and the batch goes on")
    func longLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("batch-long-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = dir.appendingPathComponent("keys.json"), input = dir.appendingPathComponent("in.jsonl"), output = dir.appendingPathComponent("out.jsonl")
        FileManager.default.createFile(atPath: keys.path, contents: Data(#"{"k0":"abababababababab"}"#.utf8), attributes: [.posixPermissions: 0o600])
        let good = Self.credit() + "\n"
        // Line 4 spans several read windows: still one answer for it.
        let long = "{\"id\":\"" + String(repeating: "x", count: 3 << 20) + "\"}\n"
        let longer = "{\"id\":\"" + String(repeating: "y", count: 11 << 20) + "\"}"
        try Data((good + long + good + longer).utf8).write(to: input)
        let summary = try BatchRunner.run(keysPath: keys.path, inputPath: input.path, outputPath: output.path, showProgress: false, now: { 1_700_000_000 })
        #expect(summary.succeeded == 2 && summary.failed == 2)
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1].contains("line 2: a request line is longer than 1048576 bytes"))
        #expect(lines[3].contains("line 4: a request line is longer than 1048576 bytes"))
        #expect(lines[2].contains(#""ok":true"#))
    }
}
