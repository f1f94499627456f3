import Foundation
import STSTestFixtures
import Testing

/// The card commands through the real PC/SC stack: pcscd + vpcd + our virtual card.
extension CommandLineSuites {
    @Suite(.serialized)
    struct CardCommandLineTests {
        static let vendingKey = "ABABABABABABABAB949494949494949401234567"
        let meterArgs = ["--pan", "600727000000000009", "--sgc", "201457", "--ti", "1", "--base-date", "2014", "--dkga", "4", "--ea", "7"]

        struct Bench {
            let dir: URL
            var issuer: String { dir.appendingPathComponent("issuer.hex").path }
            var vk: String { dir.appendingPathComponent("vk.hex").path }
            var image: String { dir.appendingPathComponent("card.img").path }
            var state: String { dir.appendingPathComponent("meter.state").path }
            var journal: String { dir.appendingPathComponent("sales.jsonl").path }
        }

        func bench() throws -> Bench {
            let b = Bench(dir: try CommandLine.temporaryDirectory())
            try CommandLine.write("000102030405060708090A0B0C0D0E0F\n", to: URL(fileURLWithPath: b.issuer))
            try CommandLine.write(Self.vendingKey + "\n", to: URL(fileURLWithPath: b.vk))
            return b
        }

        /// Starts the virtual card and waits until pcscd sees it.
        func insert(_ b: Bench, pullAfter: Int? = nil) throws -> ChildProcess {
            let p = try ChildProcess(CommandLine.binary, ["card", "emulate", "--image", b.image, "--serial", "0102030405060708"]
                                     + (pullAfter.map { ["--pull-after", "\($0)"] } ?? []))
            for _ in 0..<100 {
                let r = try CommandLine.run(["card", "readers", "--json"])
                if r.stdout.contains("\"index\":0,\"name\":\"Virtual PCD 00 00\",\"card\":true") { return p }
                usleep(100_000)
            }
            Issue.record("the virtual card did not appear in the reader")
            return p
        }

        /// Stops the virtual card and waits until the reader is empty (a new card on the same port
        /// before that can leave the slot stuck).
        func remove(_ p: ChildProcess) throws {
            if p.isRunning { p.kill(SIGKILL) }
            p.wait()
            for _ in 0..<100 {
                if try CommandLine.run(["card", "readers", "--json"]).stdout.contains("\"name\":\"Virtual PCD 00 00\",\"card\":false") { return }
                usleep(100_000)
            }
        }

        /// `withPAN: false` is the exact scripting interface: the meter comes from the card.
        func sell(_ b: Bench, units: Int, withPAN: Bool = true) throws -> CommandLine.Output {
            let args = withPAN ? meterArgs : Array(meterArgs.dropFirst(2))
            return try CommandLine.run(["card", "sell", "--reader", "Virtual PCD 00 00", "--issuer-key-file", b.issuer] + args
                                       + ["--vending-key-file", b.vk, "--units", "\(units)", "--journal", b.journal, "--json"])
        }

        func insertIntoMeter(_ b: Bench) throws -> [String: Any] {
            CommandLine.json(try CommandLine.run(["meter", "insert-card", "--state", b.state, "--reader", "0", "--issuer-key-file", b.issuer, "--json"]).stdout)
        }

        @Test("round trip: issue, sell, the meter applies it once, the station reads the return, next sale")
        func roundTrip() throws {
            guard PCSCDaemon.ready() else { return }
            let b = try bench()
            _ = try CommandLine.run(["meter", "init", "--state", b.state] + meterArgs + ["--vending-key-file", b.vk])
            let card = try insert(b)
            defer { try? remove(card) }
            let readers = try CommandLine.run(["card", "readers", "--json"])
            // 3B 88 80 01, the serial as historical bytes, TCK = XOR of 88 … 08 = 01.
            #expect(readers.stdout.contains("3B888001010203040506070801"), "the ATR carries the card serial")
            let issued = try CommandLine.run(["card", "issue", "--issuer-key-file", b.issuer, "--pan", "600727000000000009", "--json"])
            #expect(CommandLine.json(issued.stdout)["serial"] as? String == "0102030405060708", "\(issued.stderr)")
            let sale = CommandLine.json(try sell(b, units: 123).stdout)
            #expect(sale["sequence"] as? Int == 1 && (sale["tokens"] as? [String])?.count == 1)
            let refused = try sell(b, units: 10)
            #expect(refused.status == 1 && refused.stderr.contains("not yet applied"))
            let applied = try insertIntoMeter(b)
            #expect(applied["result"] as? String == "accept")
            #expect((applied["credit"] as? [String: Any])?["electricity"] as? Double == 12.3)
            let read = CommandLine.json(try CommandLine.run(["card", "read", "--issuer-key-file", b.issuer, "--json"]).stdout)
            #expect(read["pan"] as? String == "600727000000000009")
            #expect((read["purchase"] as? [String: Any])?["sequence"] as? Int == 1)
            #expect((read["return"] as? [String: Any])?["last_sequence"] as? Int == 1 && (read["return"] as? [String: Any])?["credit_kwh"] as? Double == 12.3)
            #expect(try insertIntoMeter(b)["result"] as? String == "used")
            let next = CommandLine.json(try sell(b, units: 50, withPAN: false).stdout)
            #expect(next["sequence"] as? Int == 2 && (next["tokens"] as? [String])?.count == 1)
            let second = try insertIntoMeter(b)
            #expect(second["result"] as? String == "accept" && (second["credit"] as? [String: Any])?["electricity"] as? Double == 17.3)
            // The card image holds the card's keys, the journal every token, the state the decoder key: owner-only.
            for path in [b.image, b.journal, b.state] {
                let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0o777
                #expect(mode & 0o077 == 0, "\(path) is \(String(mode, radix: 8))")
            }
        }

        @Test("a card pulled mid-write leaves the sale pending; the next insertion completes it, credited once")
        func pulledCard() throws {
            guard PCSCDaemon.ready() else { return }
            let b = try bench()
            _ = try CommandLine.run(["meter", "init", "--state", b.state] + meterArgs + ["--vending-key-file", b.vk])
            var card = try insert(b)
            _ = try CommandLine.run(["card", "issue", "--issuer-key-file", b.issuer, "--pan", "600727000000000009"])
            try remove(card)
            // The sale reads 5 APDUs (select, serial, three files), then writes: pull before the write lands.
            card = try insert(b, pullAfter: 6)
            let pulled = try sell(b, units: 100)
            #expect(pulled.status == 1, "\(pulled.stdout)")
            try remove(card)
            let journal = try String(contentsOfFile: b.journal, encoding: .utf8)
            #expect(journal.contains("\"state\":\"pending\"") && !journal.contains("\"state\":\"delivered\""))
            card = try insert(b)
            defer { try? remove(card) }
            let completed = CommandLine.json(try sell(b, units: 999).stdout)
            #expect(completed["completed_pending"] as? Bool == true && completed["units"] as? Int == 100, "the pending sale, not a new one")
            #expect(try insertIntoMeter(b)["result"] as? String == "accept")
            let again = try insertIntoMeter(b)
            #expect(again["result"] as? String == "used" && (again["credit"] as? [String: Any])?["electricity"] as? Double == 10)
        }

        @Test("a card edited by hand is refused by the meter, which changes nothing")
        func tamperedCard() throws {
            guard PCSCDaemon.ready() else { return }
            let b = try bench()
            _ = try CommandLine.run(["meter", "init", "--state", b.state] + meterArgs + ["--vending-key-file", b.vk])
            var card = try insert(b)
            _ = try CommandLine.run(["card", "issue", "--issuer-key-file", b.issuer, "--pan", "600727000000000009"])
            _ = try sell(b, units: 100)
            try remove(card)
            // Edit the purchase amount in the image and re-seal the file's own checksum, as a forger would.
            let text = try String(contentsOfFile: b.image, encoding: .utf8)
            let body = String(text[..<text.range(of: "\nsha256:")!.lowerBound])
            var o = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
            var files = o["files"] as! [[Int]]
            files[1][17] ^= 0x7F
            o["files"] = files
            let newBody = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
            try newBody.write(to: URL(fileURLWithPath: b.image))
            let sum = try CommandLine.runTool("/usr/bin/sha256sum", [b.image]).split(separator: " ")[0]
            try (newBody + Data("\nsha256:\(sum)\n".utf8)).write(to: URL(fileURLWithPath: b.image))
            card = try insert(b)
            defer { try? remove(card) }
            let before = try String(contentsOfFile: b.state, encoding: .utf8)
            let r = try CommandLine.run(["meter", "insert-card", "--state", b.state, "--issuer-key-file", b.issuer, "--json"])
            #expect(r.status == 1 && r.stderr.contains("[card-mac]"), "\(r.stderr)")
            #expect(try String(contentsOfFile: b.state, encoding: .utf8) == before)
        }

        @Test("reader errors are named: unknown reader, no card")
        func readerErrors() throws {
            guard PCSCDaemon.ready() else { return }
            let b = try bench()
            let unknown = try CommandLine.run(["card", "read", "--reader", "No Such Reader", "--issuer-key-file", b.issuer])
            #expect(unknown.status == 1 && unknown.stderr.contains("[unknown-reader]"))
            let empty = try CommandLine.run(["card", "read", "--reader", "Virtual PCD 00 01", "--issuer-key-file", b.issuer])
            #expect(empty.status == 1 && empty.stderr.contains("[no-card]"))
        }
    }
}

extension CommandLine {
    /// Runs a system tool and returns its standard output.
    static func runTool(_ path: String, _ args: [String]) throws -> String { try ChildProcess.run(path, args).1 }
}
