import Foundation
import STSStation
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// One station for keypad and card meters, through the documented commands on the real PC/SC
    /// stack (pcscd + vpcd + our virtual card): interleaved keypad and card sales to one card
    /// meter get distinct TIDs, the meter takes each card purchase once, a refused purchase is
    /// voided by a supervisor and the card takes the next sale, and the log verifies with --keys.
    @Suite(.serialized)
    struct StationCardCommandLineTests {
        static let vendingKey = "ABABABABABABABAB949494949494949401234567"
        static let keypadPAN = "600727000000000009"
        let cards = CommandLineSuites.CardCommandLineTests()

        final class Day {
            let s: StationCommandLineTests.Session
            var cardPAN = ""
            init() throws { s = try StationCommandLineTests.Session() }
            var auth: [String] { s.auth }
            var image: String { s.path("card.img") }
            var cardState: String { s.path("card-meter.state") }
            func run(_ args: [String], stdin: String? = nil) throws -> CommandLine.Output { try s.run(args, stdin: stdin) }
            func json(_ args: [String]) throws -> [String: Any] {
                let r = try run(args + ["--json"])
                #expect(r.status == 0, "\(args.prefix(2)): \(r.stderr)")
                return CommandLine.json(r.stdout)
            }
        }

        /// A test station with one vending key (DKGA04, EA07, SGC 201457), a card issuer key, a flat
        /// tariff, a keypad meter and a card meter on the same supply group, and the card meter's simulator.
        func openDay(tidDepth: Int = 50) throws -> Day {
            let d = try Day()
            let s = d.s
            try CommandLine.write("station password\n", to: s.dir.appendingPathComponent("pw"))
            try CommandLine.write(Self.vendingKey + "\n", to: s.dir.appendingPathComponent("vk.hex"))
            try CommandLine.write("000102030405060708090A0B0C0D0E0F\n", to: s.dir.appendingPathComponent("issuer.hex"))
            try CommandLine.write(#"{"vk":"\#(Self.vendingKey)"}"#, to: s.dir.appendingPathComponent("keys.json"))
            var r = try d.run(["station", "init", "--test-clock", "--db", s.path("s.db"), "--admin", "sue", "--password-file", s.path("pw"),
                               "--totp-secret-out", s.path("sue.totp")])
            #expect(r.status == 0, "\(r.stderr)")
            s.secret = Base32.decode(try String(contentsOfFile: s.path("sue.totp"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            r = try d.run(["key", "import"] + d.auth + s.totp() + ["--name", "vk", "--file", s.path("vk.hex"), "--dkga", "4", "--ea", "7",
                                                                  "--base-date", "2014", "--sgc", "201457", "--krn", "1", "--kt", "2", "--ti", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try d.run(["key", "import"] + d.auth + ["--card-issuer", "--name", "cards", "--file", s.path("issuer.hex")])
            #expect(r.status != 0 && r.stderr.contains("--totp"), "a card issuer key needs the second factor")
            r = try d.run(["key", "import"] + d.auth + s.totp() + ["--card-issuer", "--name", "cards", "--file", s.path("issuer.hex")])
            #expect(r.status == 0, "\(r.stderr)")
            r = try d.run(["tariff", "set"] + d.auth + s.totp() + ["--name", "flat", "--flat", "1.00"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try d.run(["meter", "add"] + d.auth + ["--pan", Self.keypadPAN, "--key", "vk", "--tariff", "flat", "--customer", "Ann"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try d.run(["meter", "add"] + d.auth + ["--pan", "01234567897", "--key", "vk", "--tariff", "flat", "--customer", "Ben", "--card"])
            #expect(r.status == 0, "\(r.stderr)")
            d.cardPAN = r.stdout.split(separator: " ").count > 1 ? String(r.stdout.split(separator: " ")[1]) : ""
            #expect(d.cardPAN.count == 18 && d.cardPAN.hasPrefix("600727"), "\(r.stdout)")
            r = try d.run(["meter", "init", "--state", d.cardState, "--pan", d.cardPAN, "--sgc", "201457", "--ti", "1", "--base-date", "2014",
                           "--dkga", "4", "--ea", "7", "--tid-depth", "\(tidDepth)", "--vending-key-file", "-"], stdin: Self.vendingKey + "\n")
            #expect(r.status == 0, "\(r.stderr)")
            return d
        }

        func insertCard(_ d: Day, pullAfter: Int? = nil) throws -> ChildProcess {
            let p = try ChildProcess(CommandLine.binary, ["card", "emulate", "--image", d.image, "--serial", "0102030405060708"]
                                     + (pullAfter.map { ["--pull-after", "\($0)"] } ?? []))
            for _ in 0..<100 {
                if try CommandLine.run(["card", "readers", "--json"]).stdout.contains("\"name\":\"Virtual PCD 00 00\",\"card\":true") { return p }
                usleep(100_000)
            }
            Issue.record("the virtual card did not appear in the reader")
            return p
        }

        func cardSale(_ d: Day, _ money: String) throws -> CommandLine.Output {
            try d.run(["sell"] + d.auth + ["--meter", d.cardPAN, "--money", money, "--reader", "Virtual PCD 00 00", "--json"])
        }

        func intoMeter(_ d: Day) throws -> [String: Any] {
            CommandLine.json(try d.run(["meter", "insert-card", "--state", d.cardState, "--reader", "0", "--issuer-key-file", d.s.path("issuer.hex"), "--json"]).stdout)
        }

        func enter(_ d: Day, _ token: String) throws -> String {
            CommandLine.json(try d.run(["meter", "enter", "--state", d.cardState, token, "--json"]).stdout)["result"] as? String ?? "?"
        }

        @Test("a card meter sold over HTTP: serve writes the purchase to the card in its reader, the meter takes it once, a retry writes nothing new")
        func cardSaleOverHTTP() throws {
            guard PCSCDaemon.ready() else { return }
            let d = try openDay()
            let card = try insertCard(d)
            defer { try? cards.remove(card) }
            _ = try d.json(["card", "issue"] + d.auth + ["--reader", "Virtual PCD 00 00", "--meter", d.cardPAN])
            let (server, url) = try CommandLine.serve(["--db", d.s.path("s.db"), "--listen", "127.0.0.1:0", "--reader", "Virtual PCD 00 00"], in: d.s.dir,
                                                      environment: ["STSVEND_NOW": "\(d.s.now)"])
            defer { server.kill(SIGTERM); server.wait() }
            #expect(!url.isEmpty)
            // curl-free: Python's urllib as the HTTP client.
            func post(_ path: String, _ body: String, token: String? = nil, key: String? = nil) throws -> (Int, [String: Any]) {
                let script = """
                import sys, urllib.request, urllib.error
                req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST", headers={"Content-Type": "application/json"})
                if sys.argv[3]: req.add_header("Authorization", "Bearer " + sys.argv[3])
                if sys.argv[4]: req.add_header("Idempotency-Key", sys.argv[4])
                try:
                    r = urllib.request.urlopen(req); print(r.status); print(r.read().decode())
                except urllib.error.HTTPError as e:
                    print(e.code); print(e.read().decode())
                """
                let (_, o, e) = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script, url + path, body, token ?? "", key ?? ""])
                let lines = o.split(separator: "\n", maxSplits: 1).map(String.init)
                #expect(lines.count == 2, "\(o)\(e)")
                return (Int(lines.first ?? "") ?? 0, CommandLine.json(lines.count > 1 ? lines[1] : ""))
            }
            let (_, login) = try post("/api/v1/session", "{\"user\": \"sue\", \"password\": \"station password\"}")
            let token = login["token"] as? String ?? ""
            let (status, sale) = try post("/api/v1/sales", "{\"meter\": \"\(d.cardPAN)\", \"money\": \"10.00\"}", token: token, key: "web-1")
            #expect(status == 201, "\(sale)")
            #expect((sale["card"] as? [String: Any])?["sequence"] as? Int == 1 && sale["units"] as? Double == 10.0, "\(sale)")
            let (again, replay) = try post("/api/v1/sales", "{\"meter\": \"\(d.cardPAN)\", \"money\": \"10.00\"}", token: token, key: "web-1")
            #expect(again == 200 && replay["sale"] as? Int == sale["sale"] as? Int, "the same key returns the same card sale: \(replay)")
            #expect((replay["card"] as? [String: Any])?["sequence"] as? Int == 1, "and writes no new purchase")
            #expect(try intoMeter(d)["result"] as? String == "accept")
            #expect(try intoMeter(d)["result"] as? String == "used", "the purchase is applied once")
        }

        @Test("a day at one station: keypad and card sales to one card meter, a refused purchase voided, the log verifies")
        func scriptedDay() throws {
            guard PCSCDaemon.ready() else { return }
            let d = try openDay(tidDepth: 2)
            let card = try insertCard(d)
            defer { try? cards.remove(card) }

            let issued = try d.json(["card", "issue"] + d.auth + ["--reader", "Virtual PCD 00 00", "--meter", d.cardPAN])
            #expect(issued["serial"] as? String == "0102030405060708" && issued["pan"] as? String == d.cardPAN)
            var r = try d.run(["sell"] + d.auth + ["--meter", Self.keypadPAN, "--money", "3.00", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let keypadMeterTID = CommandLine.json(r.stdout)["tid"] as? Int

            // Card, keypad, card: one TID registry for the card meter.
            var tids: [Int] = []
            r = try cardSale(d, "10.00")
            #expect(r.status == 0, "\(r.stderr)")
            var sale = CommandLine.json(r.stdout)
            #expect((sale["card"] as? [String: Any])?["sequence"] as? Int == 1 && sale["units"] as? Double == 10.0, "\(r.stdout)")
            tids.append(sale["tid"] as? Int ?? -1)
            #expect(try intoMeter(d)["result"] as? String == "accept")
            #expect(try intoMeter(d)["result"] as? String == "used", "a purchase is applied once")
            r = try d.run(["sell"] + d.auth + ["--meter", d.cardPAN, "--money", "5.00", "--keypad", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            sale = CommandLine.json(r.stdout)
            #expect(sale["card"] == nil)
            tids.append(sale["tid"] as? Int ?? -1)
            #expect(try enter(d, sale["token"] as? String ?? "") == "accept")
            r = try cardSale(d, "7.00")
            sale = CommandLine.json(r.stdout)
            #expect((sale["card"] as? [String: Any])?["sequence"] as? Int == 2, "\(r.stderr)")
            tids.append(sale["tid"] as? Int ?? -1)
            let applied = try intoMeter(d)
            #expect(applied["result"] as? String == "accept")
            #expect((applied["credit"] as? [String: Any])?["electricity"] as? Double == 22.0, "10 + 5 + 7 kWh at 1.00")

            // Purchase 3 waits on the card while two newer keypad tokens are typed in: the meter
            // (TID memory of 2) can no longer tell whether it was used, and refuses it as OLD.
            r = try cardSale(d, "4.00")
            sale = CommandLine.json(r.stdout)
            #expect((sale["card"] as? [String: Any])?["sequence"] as? Int == 3, "\(r.stderr)")
            tids.append(sale["tid"] as? Int ?? -1)
            for money in ["1.00", "2.00"] {
                r = try d.run(["sell"] + d.auth + ["--meter", d.cardPAN, "--money", money, "--keypad", "--json"])
                sale = CommandLine.json(r.stdout)
                tids.append(sale["tid"] as? Int ?? -1)
                #expect(try enter(d, sale["token"] as? String ?? "") == "accept")
            }
            let refused = try intoMeter(d)
            #expect(refused["result"] as? String == "old", "\(refused)")
            r = try cardSale(d, "1.00")
            #expect(r.status == 5 && r.stderr.contains("card-busy"), "the card still carries purchase 3: \(r.stderr)")
            let read = try d.json(["card", "read"] + d.auth + ["--reader", "Virtual PCD 00 00"])
            #expect((read["return"] as? [String: Any])?["last_sequence"] as? Int == 2)
            #expect((read["purchase"] as? [String: Any])?["applied"] as? Bool == false)

            // The supervisor voids it: its 4.00 of energy goes back to the account as carried credit.
            r = try d.run(["card", "void"] + d.auth + ["--meter", d.cardPAN, "--sequence", "3", "--reason", "meter refused it (old)", "--confirm-not-entered", "--json"])
            #expect(r.status == 3 && r.stderr.contains("--totp"), "a void needs the second factor: \(r.stderr)")
            let voided = try d.json(["card", "void"] + d.auth + d.s.totp() + ["--meter", d.cardPAN, "--sequence", "3", "--reason", "meter refused it (old)"])
            #expect(voided["credit_restored"] as? String == "4.00" && voided["carried_credit"] as? String == "4.00")
            r = try cardSale(d, "1.00")
            sale = CommandLine.json(r.stdout)
            #expect((sale["card"] as? [String: Any])?["sequence"] as? Int == 3, "renumbered after the meter's last: \(r.stderr)")
            #expect(sale["units"] as? Double == 5.0, "1.00 paid + 4.00 carried back")
            tids.append(sale["tid"] as? Int ?? -1)
            let replaced = try intoMeter(d)
            #expect(replaced["result"] as? String == "accept", "\(replaced)")
            #expect((replaced["credit"] as? [String: Any])?["electricity"] as? Double == 30.0, "22 + 1 + 2 + 5 kWh; the refused 4 kWh came back once")

            #expect(Set(tids).count == tids.count && tids == tids.sorted(), "distinct, rising TIDs for keypad and card sales: \(tids)")
            #expect(keypadMeterTID != nil)

            // The log, exported and verified offline with the vending key.
            let export = try d.json(["audit", "export"] + d.auth + ["--out", d.s.path("log.jsonl")])
            let head = export["head"] as? String ?? ""
            let verified = try d.json(["audit", "verify", d.s.path("log.jsonl"), "--public-key", d.s.path("s.db.pub"), "--keys", d.s.path("keys.json"), "--head", head])
            #expect(verified["clean"] as? Bool == true, "\(verified)")
            #expect(verified["card_voids"] as? Int == 1)
        }

        @Test("a card pulled during a station sale: the sale stays pending and the next attempt writes that same purchase")
        func pulledCard() throws {
            guard PCSCDaemon.ready() else { return }
            let d = try openDay()
            var card = try insertCard(d)
            #expect(try d.run(["card", "issue"] + d.auth + ["--reader", "0", "--meter", d.cardPAN]).status == 0)
            try cards.remove(card)
            // The sale reads the card (5 APDUs), commits, reads it again and writes: pull mid-way.
            card = try insertCard(d, pullAfter: 8)
            let pulled = try d.run(["sell"] + d.auth + ["--meter", d.cardPAN, "--money", "12.00", "--request-id", "p1", "--json"])
            #expect(pulled.status == 7 && pulled.stderr.contains("pending"), "\(pulled.status) \(pulled.stderr)")
            try cards.remove(card)
            card = try insertCard(d)
            defer { try? cards.remove(card) }
            let pending = try d.json(["card", "read"] + d.auth + ["--reader", "0"])
            #expect(((pending["station"] as? [String: Any])?["pending"] as? [String: Any])?["sequence"] as? Int == 1)
            // Another attempt (a new request) completes the pending purchase: no second sale.
            let again = try d.run(["sell"] + d.auth + ["--meter", d.cardPAN, "--money", "50.00", "--json"])
            let completed = CommandLine.json(again.stdout)
            #expect((completed["card"] as? [String: Any])?["completed_pending"] as? Bool == true, "\(again.stderr)")
            #expect(completed["units"] as? Double == 12.0 && completed["sale"] as? Int == 1)
            let replay = CommandLine.json(try d.run(["sell"] + d.auth + ["--meter", d.cardPAN, "--money", "12.00", "--request-id", "p1", "--json"]).stdout)
            #expect(replay["replayed"] as? Bool == true && replay["sale"] as? Int == 1)
            #expect(try intoMeter(d)["result"] as? String == "accept")
            let meter = try intoMeter(d)
            #expect(meter["result"] as? String == "used" && (meter["credit"] as? [String: Any])?["electricity"] as? Double == 12.0)
            let report = try d.json(["report"] + d.auth + ["--from", "2000-01-01", "--to", "2099-12-31"])
            #expect("\(report)".contains("12.00"), "one sale of 12.00 in the books: \(report)")
        }
    }
}
