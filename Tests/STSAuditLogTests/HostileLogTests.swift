import Crypto
import Foundation
import STSAuditLog
import STSBatch
import Testing

/// Builds logs line by line with a real signing key, so a test can craft any entry with a valid
/// hash, chain and checkpoints: only what the test breaks is broken.
struct LogBuilder {
    let signer = try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(0..<32) as [UInt8])
    let stationID = "3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d"
    var lines: [[UInt8]] = []
    var prev = AuditEntryLine.genesis

    init(station: Bool = true) {
        if station {
            add("station", #"{"station_id":"\#(stationID)","name":"station","public_key":"\#(signer.publicKey.rawRepresentation.base64EncodedString())"}"#)
        }
    }

    mutating func add(_ type: String, _ data: String, actor: String = "ada") { add(type, Array(data.utf8), actor: actor) }

    mutating func add(_ type: String, _ data: [UInt8], actor: String = "ada") {
        let e = AuditEntryLine(seq: Int64(lines.count + 1), unixSeconds: 1_767_600_000, type: type, actor: actor, data: data, prev: prev)
        lines.append(e.bytes)
        prev = e.hash
    }

    mutating func checkpoint() {
        add(Checkpoint.type, try! Checkpoint.data(stationID: stationID, through: Int64(lines.count), head: prev, signingKey: signer), actor: "station")
    }

    /// Ends the log as an export does: an export entry and its checkpoint.
    mutating func export() {
        add("export", #"{"through":\#(lines.count)}"#)
        checkpoint()
    }

    var bytes: [UInt8] { Array(lines.joined(separator: [10])) + [10] }

    func verify(_ bytes: [UInt8]? = nil, head: String? = nil) -> AuditReport {
        AuditVerifier(publicKey: signer.publicKey).verify(bytes ?? self.bytes, head: head)
    }

    static let meter = #""meter":{"pan":"600727000000000009","sgc":"123456","ti":1,"krn":1,"kt":2,"ken":255,"base_date":2014,"dkga":2,"ea":7,"vending_key":"k1"}"#

    /// A sale's data with the given money fields and blocks.
    static func sale(_ id: Int, account: Int = 1, money: String = "10.00", carriedIn: String = "0.00", carriedOut: String = "0.00",
                     deductions: String = "[]", blocks: String, units: String, tokens: String = "[]") -> String {
        #"{"sale":\#(id),"request_id":"r\#(id)","kind":"credit","time":"2026-01-05T08:00:00Z",\#(meter),"account":\#(account),"customer":"Alice","operator":"olly","channel":"counter","tariff":"flat","tariff_version":1,"money":"\#(money)","carried_in":"\#(carriedIn)","deductions":\#(deductions),"blocks":\#(blocks),"units_asked":null,"units_tenths":\#(units),"carried_out":"\#(carriedOut)","tokens":\#(tokens),"warnings":[]}"#
    }
}

@Suite struct HostileLogTests {
    /// The crafted lines auditors were handed: each must be a problem at line 1, never a trap.
    static let zeros = String(repeating: "0", count: 64)
    static let crafted: [(String, String, String)] = [
        ("tenths near Int64.max / 10", #"{"sale":1,"account":1,"money":"0.00","carried_in":"0.00","carried_out":"0.00","blocks":[{"tenths":922337203685477580,"price":"1.0000","cost":"0.00"}]}"#, "format"),
        ("negative tenths", #"{"sale":1,"account":1,"money":"0.00","carried_in":"0.00","carried_out":"0.00","blocks":[{"tenths":-922337203685477580,"price":"1.0000","cost":"0.00"}]}"#, "format"),
        ("100 deductions of 999999999999999.99", #"{"sale":1,"account":1,"money":"0.00","carried_in":"0.00","carried_out":"0.00","deductions":[\#(Array(repeating: #"{"kind":"x","amount":"999999999999999.99"}"#, count: 100).joined(separator: ","))]}"#, "money"),
        ("a price beyond 64 bits", #"{"sale":1,"account":1,"money":"0.00","carried_in":"0.00","carried_out":"0.00","blocks":[{"tenths":1,"price":"999999999999999","cost":"0.00"}]}"#, "format"),
        ("the largest price and tenths", #"{"sale":1,"account":1,"money":"0.00","carried_in":"0.00","carried_out":"0.00","blocks":[{"tenths":18201624,"price":"922337203685477.5807","cost":"0.00"}],"units_tenths":18201624}"#, "money"),
        ("units_tenths at Int64.max", #"{"sale":1,"account":1,"money":"0.00","carried_in":"0.00","carried_out":"0.00","blocks":[],"units_tenths":9223372036854775807}"#, "units"),
        ("money of 16 digits", #"{"sale":1,"account":1,"money":"9999999999999999.00","carried_in":"0.00","carried_out":"0.00"}"#, "format"),
    ]

    @Test("crafted sale lines are problems at their line, with or without a valid hash", arguments: crafted)
    func craftedSales(_ c: (String, String, String)) {
        var log = LogBuilder()
        log.add("sale", c.1)
        log.export()
        let r = log.verify()
        #expect(r.problems.contains { $0.line == 2 && $0.code == c.2 }, "\(c.0): \(r.problems)")
        // The same data behind a zero hash, as the kit writes it.
        let line = #"{"seq":1,"time":"t","type":"sale","actor":"a","data":\#(c.1),"prev":"\#(Self.zeros)","hash":"\#(Self.zeros)"}"#
        let bare = log.verify(Array((line + "\n").utf8))
        #expect(bare.problems.contains { $0.line == 1 && $0.code == "hash" } && !bare.isClean)
    }

    @Test("sums over many lines that pass 64 bits are a money problem, not a trap")
    func totalsOverflow() {
        var log = LogBuilder()
        for i in 1...93 {
            log.add("sale", LogBuilder.sale(i, account: i, money: "999999999999999.99", carriedOut: "999999999999999.99", blocks: "[]", units: "0"))
        }
        log.export()
        let r = log.verify()
        #expect(r.problems.map(\.code) == ["money"], "\(r.problems)")
        #expect(r.paidCents == Int64.max)
    }

    @Test("a huge or zero-led seq is not an entry line")
    func seqForms() {
        for seq in ["99999999999999999999999", "030", "00", "-1", "1e3"] {
            let line = #"{"seq":\#(seq),"time":"t","type":"sale","actor":"a","data":{},"prev":"\#(Self.zeros)","hash":"\#(Self.zeros)"}"#
            let r = LogBuilder().verify(Array((line + "\n").utf8))
            #expect(r.problems.first?.code == "format" && r.problems.first?.line == 1, "seq \(seq): \(r.problems)")
        }
    }

    @Test("strict JSON inside a correctly hashed line: control characters, invalid UTF-8, duplicates, spaces, member order",
          arguments: [
              ("a raw tab in a string", Array(#"{"action":"add","name":"a"#.utf8) + [9] + Array(#"b","role":"operator"}"#.utf8), "raw control character"),
              ("a raw NUL in a string", Array(#"{"name":"a"#.utf8) + [0] + Array(#"b"}"#.utf8), "raw control character"),
              ("invalid UTF-8", Array(#"{"name":"a"#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), "invalid UTF-8"),
              ("an encoded surrogate", Array(#"{"name":"a"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), "invalid UTF-8"),
              ("a bad \\u escape", Array(#"{"name":"\u+123"}"#.utf8), "4 hexadecimal digits"),
              ("a leading zero", Array(#"{"n":030}"#.utf8), "leading zero"),
              ("a name twice", Array(#"{"sale":1,"sale":2}"#.utf8), "appears twice"),
              ("a space", Array(#"{"name": "a"}"#.utf8), "whitespace"),
          ])
    func strictLines(_ c: (String, [UInt8], String)) {
        var log = LogBuilder()
        log.add("user", c.1)
        log.export()
        let r = log.verify()
        #expect(r.problems.count == 1 && r.problems.first?.line == 2 && r.problems.first?.code == "format", "\(c.0): \(r.problems)")
        #expect(r.problems.first?.message.contains(c.2) == true, "\(c.0): \(r.problems)")
    }

    @Test("the entry's members in their order, no more, no less")
    func memberOrder() {
        var log = LogBuilder()
        log.export()
        var lines = log.lines
        let text = String(decoding: lines[1], as: UTF8.self)
        let swapped = text.replacingOccurrences(of: #""type":"export","actor":"ada""#, with: #""actor":"ada","type":"export""#)
        lines[1] = Array(swapped.utf8)
        let r = log.verify(Array(lines.joined(separator: [10])) + [10])
        #expect(r.problems.contains { $0.line == 2 && $0.code == "format" && $0.message.contains("in this order") }, "\(r.problems)")
    }

    @Test("problems come in line order, the unsealed tail at its first line")
    func lineOrder() {
        var log = LogBuilder()
        log.checkpoint()
        log.add("user", #"{"action":"add","name":"b","role":"operator"}"#)
        log.add("sale", LogBuilder.sale(1, money: "10.00", blocks: "[]", units: "0"))  // does not balance
        let r = log.verify()
        #expect(r.problems.map(\.line) == r.problems.map(\.line).sorted())
        #expect(r.problems.map(\.code) == ["unsealed", "money"], "\(r.problems)")
        #expect(r.problems.first?.line == 3 && r.problems.first?.seq == 3)
    }

    @Test("line 1 must be the station entry; a later station entry names nothing")
    func stationEntry() {
        var log = LogBuilder(station: false)
        log.add("user", #"{"action":"add","name":"b","role":"operator"}"#)
        let r1 = log.verify()
        #expect(r1.problems.first?.line == 1 && r1.problems.first?.code == "format" && r1.problems.first?.message.contains("station entry") == true)

        var other = LogBuilder()
        let forger = Curve25519.Signing.PrivateKey()
        other.add("station", #"{"station_id":"00000000-0000-0000-0000-000000000000","name":"x","public_key":"\#(forger.publicKey.rawRepresentation.base64EncodedString())"}"#)
        other.export()
        let r2 = other.verify()
        #expect(r2.problems.map(\.code) == ["sequence"], "the checkpoints still verify under the line-1 station: \(r2.problems)")
    }

    @Test("reprints may name engineering and key-change records; reversals undo the latest sales in turn")
    func references() {
        var log = LogBuilder()
        log.add("sale", LogBuilder.sale(1, money: "10.00", carriedOut: "10.00", blocks: "[]", units: "0"))
        log.add("sale", LogBuilder.sale(2, money: "5.00", carriedIn: "10.00", carriedOut: "15.00", blocks: "[]", units: "0"))
        log.add("engineering", #"{"sale":3,"kind":"engineering",\#(LogBuilder.meter),"tokens":[]}"#)
        log.add("reprint", #"{"sale":3}"#)
        log.add("reversal", #"{"sale":2,"account":1,"refund":"5.00","carried_restored":"10.00","reason":"x"}"#)
        log.add("reversal", #"{"sale":1,"account":1,"refund":"10.00","carried_restored":"0.00","reason":"x"}"#)
        log.add("sale", LogBuilder.sale(4, money: "1.00", carriedOut: "1.00", blocks: "[]", units: "0"))
        log.add("reprint", #"{"sale":9}"#)
        log.export()
        let r = log.verify()
        #expect(r.problems.map(\.code) == ["reference"], "\(r.problems)")
        #expect(r.problems.first?.line == 9)
        #expect(r.sales == 3 && r.reversals == 2 && r.paidCents == 1_600 && r.refundedCents == 1_500)
    }

    @Test("the published head: any other last hash is unsealed")
    func publishedHead() {
        var log = LogBuilder()
        log.export()
        let head = log.verify().head
        #expect(log.verify(head: head).isClean)
        let r = log.verify(head: String(repeating: "a", count: 64))
        #expect(r.problems.map(\.code) == ["unsealed"] && r.problems.first?.line == 3)
    }

    @Test("signatures are strict base64 of 64 bytes: lenient re-encodings are malformed, not valid")
    func strictSignatures() {
        var log = LogBuilder()
        log.export()
        let text = String(decoding: log.lines[2], as: UTF8.self)
        let signature = text.slice(from: #""signature":""#, to: #""},"prev""#)
        #expect(signature.hasSuffix("=="))
        for variant in [signature + "==", String(signature.dropLast(2)), "AA=A", "=====", String(signature.dropLast(3)) + "B=="] {
            var forged = log
            // Rebuild the checkpoint with the variant: its own hash is right, only the signature text differs.
            forged.lines.removeLast()
            forged.prev = forged.lines[forged.lines.count - 1].withUnsafeBufferPointer { AuditEntryLine.header($0)?.hash.bytes ?? [] }
            let data = text.slice(from: #","data":"#, to: #","prev":""#).replacingOccurrences(of: signature, with: variant)
            forged.add(Checkpoint.type, data, actor: "station")
            let r = forged.verify()
            #expect(r.problems.contains { $0.line == 3 && $0.code == "format" }, "\(variant): \(r.problems)")
        }
    }

    @Test("member names written with escapes are read by their text, as a reader of the spec would")
    func escapedNames() {
        var log = LogBuilder()
        let sale = LogBuilder.sale(1, money: "10.00", carriedOut: "10.00", blocks: "[]", units: "0")
        log.add("sale", sale.replacingOccurrences(of: #"{"sale":1,"#, with: #"{"s\u0061le":1,"#))
        log.export()
        let r = log.verify()
        #expect(r.problems.isEmpty && r.sales == 1 && r.paidCents == 1_000, "\(r.problems)")
    }

    @Test("a total that reaches its limit exactly is not frozen")
    func exactLimit() {
        var log = LogBuilder()
        // 92 × 99 999 999 999 999 999 = 9 199 999 999 999 999 908 cents; then up to Int64.max exactly, then −1.00.
        for i in 1...92 {
            log.add("sale", LogBuilder.sale(i, account: i, money: "999999999999999.99", carriedOut: "999999999999999.99", blocks: "[]", units: "0"))
        }
        log.add("sale", LogBuilder.sale(93, account: 93, money: "233720368547758.99", carriedOut: "233720368547758.99", blocks: "[]", units: "0"))
        log.add("sale", LogBuilder.sale(94, account: 94, money: "-1.00", carriedOut: "-1.00", blocks: "[]", units: "0"))
        log.export()
        let r = log.verify()
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.paidCents == Int64.max - 100)
    }

    @Test("hashes are exactly 64 lower-case hex digits")
    func digestHex() {
        let text = "00ff10a9bc7de2f3456789abcdef0123456789abcdef0123456789abcdef9a8b"
        let parsed = Array(text.utf8).withUnsafeBufferPointer { LogDigest(hex: $0) }
        let expected: [UInt8] = stride(from: 0, to: 64, by: 2).map { i in
            let a = text.utf8.index(text.utf8.startIndex, offsetBy: i)
            return UInt8(String(text[a..<text.utf8.index(a, offsetBy: 2)]), radix: 16)!
        }
        #expect(parsed?.bytes == expected && parsed?.description == text)
        let tail = String(text.dropFirst())
        var bad: [[UInt8]] = ["F", "g", "/", ":", "`", "G", "@"].map { Array(($0 + tail).utf8) }
        bad.append(Array(text.utf8.dropLast()) + [0x80])
        bad.append(Array(text.utf8.dropLast()))
        for b in bad {
            #expect(b.withUnsafeBufferPointer { LogDigest(hex: $0) } == nil, "\(String(decoding: b, as: UTF8.self))")
        }
    }

    @Test("a public-key file with CRLF or spaces reads the same key")
    func publicKeyFile() throws {
        let key = Curve25519.Signing.PrivateKey().publicKey
        let text = StationPublicKeyFile.text(key)
        for variant in [text, text.replacingOccurrences(of: "\n", with: "\r\n"), "  " + text + "\n\n"] {
            #expect(try StationPublicKeyFile.parse(variant).rawRepresentation == key.rawRepresentation)
        }
        #expect(throws: AuditFileError.badPublicKey) { try StationPublicKeyFile.parse("stsvend-station-ed25519\r\n") }
    }

    @Test("a log of nothing but line feeds is bounded: problems are capped, none is lost from the count")
    func manyEmptyLines() {
        let r = LogBuilder().verify([UInt8](repeating: 10, count: 200_000))
        #expect(r.entries == 200_000 && r.problems.count == AuditReport.maximumProblems)
        #expect(r.problemCount > 200_000 && !r.isClean)
    }
}

extension String {
    func slice(from: String, to: String) -> String {
        guard let a = range(of: from)?.upperBound, let b = range(of: to, options: .backwards)?.lowerBound, a <= b else { return "" }
        return String(self[a..<b])
    }
}
