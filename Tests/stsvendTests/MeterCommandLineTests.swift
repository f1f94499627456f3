import Foundation
import STSTestFixtures
import Testing

/// `stsvend meter …` through the real binary: the JSON contract, crash safety, the keypad.
extension CommandLineSuites {
    @Suite(.serialized)
    struct MeterCommandLineTests {
        static let vendingKey = "ABABABABABABABAB949494949494949401234567"
        static let meterArgs = ["--pan", "600727000000000009", "--sgc", "201457", "--ti", "1", "--krn", "1", "--kt", "2",
                                "--base-date", "2014", "--dkga", "4", "--ea", "7"]

        /// A new meter in a fresh folder; returns the state path.
        static func newMeter(_ extra: [String] = []) throws -> String {
            let dir = try CommandLine.temporaryDirectory()
            let state = dir.appendingPathComponent("meter.state").path
            let r = try CommandLine.run(["meter", "init", "--state", state] + meterArgs + ["--vending-key-file", "-"] + extra, stdin: vendingKey)
            #expect(r.status == 0, "\(r.stderr)")
            return state
        }

        static func credit(tid: Int, units: Int) throws -> String {
            let r = try CommandLine.run(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--tid", "\(tid)", "--units", "\(units)", "--json"],
                                        stdin: vendingKey)
            return (CommandLine.json(r.stdout)["tokens"] as! [String])[0]
        }

        /// The TIDs and electricity credit (tenths) recorded in a state file, read from its JSON body.
        static func recorded(_ state: String) throws -> (tids: [Int], tenths: Int) {
            let text = try String(contentsOfFile: state, encoding: .utf8)
            let body = String(text[..<text.range(of: "\nsha256:")!.lowerBound])
            let o = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
            let credit = (o["registers"] as! [String: Any])["credit"] as! [String: String]
            return (o["tid_memory"] as! [Int], Int(credit["electricity"]!)!)
        }

        @Test("init, enter and status speak the documented JSON")
        func jsonContract() throws {
            let state = try Self.newMeter()
            let token = try Self.credit(tid: 6_000_000, units: 255)
            let r = try CommandLine.run(["meter", "enter", "--state", state, token, "--json"])
            let o = CommandLine.json(r.stdout)
            #expect(o["result"] as? String == "accept")
            #expect((o["credit"] as? [String: Any])?["electricity"] as? Double == 25.5)
            #expect((o["credit"] as? [String: Any])?.keys.sorted() == ["electricity", "electricity-currency", "gas", "gas-currency", "time", "time-currency", "water", "water-currency"])
            #expect(o["display"] as? String == "ACCEPt")
            let again = CommandLine.json(try CommandLine.run(["meter", "enter", "--state", state, token, "--json"]).stdout)
            #expect(again["result"] as? String == "used")
            let bad = CommandLine.json(try CommandLine.run(["meter", "enter", "--state", state, "1234", "--json"]).stdout)
            #expect(bad["result"] as? String == "format")
            let status = CommandLine.json(try CommandLine.run(["meter", "status", "--state", state, "--json"]).stdout)
            #expect((status["credit"] as? [String: Any])?["electricity"] as? Double == 25.5)
            #expect(status["result"] as? String == "format")
            #expect((status["events"] as? [[String: Any]])?.count == 4, "accept, relay closed, used, format")
            let run = CommandLine.json(try CommandLine.run(["meter", "run", "--state", state, "--load-watts", "2000", "--hours", "2", "--json"]).stdout)
            #expect(run["consumed_kwh"] as? Double == 4 && (run["credit"] as? [String: Any])?["electricity"] as? Double == 21.5)
            for text in try [String(contentsOfFile: state, encoding: .utf8)] { #expect(!text.contains(Self.vendingKey)) }
            let human = try CommandLine.run(["meter", "status", "--state", state])
            #expect(human.stdout.contains("21.5 kWh") && !human.stdout.uppercased().contains("DECODER_KEY"))
            let init2 = try CommandLine.run(["meter", "init", "--state", state] + Self.meterArgs + ["--vending-key-file", "-"], stdin: Self.vendingKey)
            #expect(init2.status == 1 && init2.stderr.contains("[state-exists]"))
        }

        /// Runs stsvend with the meter clock at `now`.
        static func at(_ now: Int64, _ args: [String]) throws -> [String: Any] {
            let (status, out, err) = try ChildProcess.run(CommandLine.binary, args, environment: ["STSVEND_NOW": "\(now)"])
            #expect(status == 0, "\(err)")
            return CommandLine.json(out)
        }

        @Test("a currency meter: init --currency, money credit, time-of-use period in status, run by the period's price")
        func currencyMeter() throws {
            let monday: Int64 = 1_704_067_200  // 2024-01-01T00:00:00Z
            let state = try Self.newMeter(["--currency", "--warn-money", "50.00,5.00"])
            let r = try CommandLine.run(["token", "credit"] + Self.meterArgs
                                        + ["--vending-key-file", "-", "--tid", "6000000", "--subclass", "electricity-currency", "--amount", "100.00", "--json"],
                                        stdin: Self.vendingKey)
            let token = (CommandLine.json(r.stdout)["tokens"] as! [String])[0]
            let entered = try Self.at(monday, ["meter", "enter", "--state", state, token, "--json"])
            #expect(entered["result"] as? String == "accept" && entered["relay"] as? String == "closed" && entered["meter_type"] as? String == "currency")
            #expect((entered["credit"] as? [String: Any])?["electricity-currency"] as? Double == 100.00624, "100.00 encodes as 100.00624")
            #expect((entered["tou"] as? [String: Any])?["period"] as? String == "off-peak")
            // 48 h at 1 kW over two weekdays: 2 × (5 h × 3.00 + 11 h × 1.50 + 8 h × 0.80) = 75.80.
            let run = try Self.at(monday, ["meter", "run", "--state", state, "--load-watts", "1000", "--hours", "48", "--json"])
            #expect(run["charged"] as? Double == 75.8)
            #expect((run["charged_by_period"] as? [String: Any])?["peak"] as? Double == 30)
            #expect((run["credit"] as? [String: Any])?["electricity-currency"] as? Double == 24.20624)
            #expect((run["run_events"] as? [String])?.contains("warning: low credit: 49.95624 left (threshold 50)") == true)
            let status = try Self.at(monday + 7 * 3600, ["meter", "status", "--state", state, "--json"])
            let tou = status["tou"] as? [String: Any]
            #expect(tou?["period"] as? String == "peak" && tou?["price_per_kwh"] as? Double == 3 && tou?["day"] as? String == "weekday")
            let human = try ChildProcess.run(CommandLine.binary, ["meter", "status", "--state", state], environment: ["STSVEND_NOW": "\(monday + 7 * 3600)"]).1
            #expect(human.contains("24.20624 (electricity-currency)") && human.contains("time of use: peak 3.00/kWh"), "\(human)")
        }

        @Test("meter init takes a time-of-use file and refuses a malformed one or currency options without --currency")
        func currencyInitRefusals() throws {
            let dir = try CommandLine.temporaryDirectory()
            let flat = dir.appendingPathComponent("flat.tou")
            try CommandLine.write("sts-tou-table 1\nperiod flat 2.00\nweekday 00-24 flat\nweekend 00-24 flat\n", to: flat)
            let state = try Self.newMeter(["--currency", "--tou-file", flat.path])
            let status = try Self.at(1_704_067_200, ["meter", "status", "--state", state, "--json"])
            #expect((status["tou"] as? [String: Any])?["period"] as? String == "flat" && status["relay"] as? String == "open-no-credit")
            let bad = dir.appendingPathComponent("bad.tou")
            try CommandLine.write("sts-tou-table 1\nperiod flat 2.00\nweekday 00-25 flat\n", to: bad)
            let target = dir.appendingPathComponent("m.state").path
            let refused = try CommandLine.run(["meter", "init", "--state", target] + Self.meterArgs + ["--vending-key-file", "-", "--currency", "--tou-file", bad.path],
                                              stdin: Self.vendingKey)
            #expect(refused.status == 1 && refused.stderr.contains("[bad-tou-table]") && refused.stderr.contains("line 3"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target))
            let noFlag = try CommandLine.run(["meter", "init", "--state", target] + Self.meterArgs + ["--vending-key-file", "-", "--tou-file", flat.path],
                                             stdin: Self.vendingKey)
            #expect(noFlag.status == 64 && noFlag.stderr.contains("--currency"))
            let money = try CommandLine.run(["meter", "init", "--state", target] + Self.meterArgs + ["--vending-key-file", "-", "--currency", "--warn-money", "5.000001"],
                                            stdin: Self.vendingKey)
            #expect(money.status == 64 && !FileManager.default.fileExists(atPath: target))
        }

        @Test("concurrent entries on one meter are all kept (the state is locked while it changes)")
        func concurrentEntries() throws {
            let state = try Self.newMeter()
            let tokens = try (0..<8).map { try Self.credit(tid: 6_000_000 + 2 * $0, units: $0 + 1) }
            let processes = try tokens.map { try ChildProcess(CommandLine.binary, ["meter", "enter", "--state", state, $0]) }
            for p in processes { p.wait() }
            let (tids, tenths) = try Self.recorded(state)
            #expect(tids.count == 8 && tenths == 36)
        }

        @Test("meter init refuses a key that does not suit the EA, and EA09 without its opt-in")
        func initRefusals() throws {
            let dir = try CommandLine.temporaryDirectory()
            let key = dir.appendingPathComponent("dk.hex")
            try CommandLine.write("929BD3A415C9420A05EC5EE9F3CE91C3\n", to: key)
            let state = dir.appendingPathComponent("m.state").path
            let r = try CommandLine.run(["meter", "init", "--state", state] + Self.meterArgs + ["--decoder-key-file", key.path])
            #expect(r.status == 1 && r.stderr.contains("[key-algorithm-mismatch]"))
            #expect(!FileManager.default.fileExists(atPath: state))
            var args = Self.meterArgs
            args[args.count - 1] = "9"
            args[args.count - 3] = "2"
            let des = try CommandLine.run(["meter", "init", "--state", state] + args + ["--vending-key-file", "-"], stdin: "ABABABABABABABAB")
            #expect(des.status == 1 && des.stderr.contains("[unverified-ea]"))
        }

        @Test("a corrupted state file is refused with a clear error and left untouched")
        func corrupted() throws {
            let state = try Self.newMeter()
            var data = try Data(contentsOf: URL(fileURLWithPath: state))
            data[40] ^= 0x20
            try data.write(to: URL(fileURLWithPath: state))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: state)
            let r = try CommandLine.run(["meter", "enter", "--state", state, try Self.credit(tid: 6_000_000, units: 1)])
            #expect(r.status == 1 && r.stderr.contains("[corrupt-state]") && r.stderr.contains("integrity"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: state)) == data)
        }

        @Test("crash at each write step: the state is the one before or the one after, never a mix")
        func faultPoints() throws {
            for (point, applied) in [("after-temp-write", false), ("before-rename", false), ("after-rename", true)] {
                let state = try Self.newMeter()
                let token = try Self.credit(tid: 6_000_000, units: 10)
                let p = try ChildProcess(CommandLine.binary, ["meter", "enter", "--state", state, token], environment: ["STSVEND_FAULT": point])
                p.wait()
                #expect(p.signalled, "\(point): the process died mid-write")
                let (tids, tenths) = try Self.recorded(state)
                #expect(applied ? (tids == [6_000_000] && tenths == 10) : (tids.isEmpty && tenths == 0), "\(point)")
                let next = CommandLine.json(try CommandLine.run(["meter", "enter", "--state", state, token, "--json"]).stdout)
                #expect(next["result"] as? String == (applied ? "used" : "accept"), "\(point): the meter still works")
            }
        }

        @Test("kill -9 at random moments while tokens are entered: credit always matches the remembered TIDs")
        func randomKills() throws {
            let state = try Self.newMeter()
            var units: [Int: Int] = [:]
            var tokens: [(Int, String)] = []
            for n in 0..<30 {
                let tid = 6_000_000 + 2 * n
                units[tid] = n + 1
                tokens.append((tid, try Self.credit(tid: tid, units: n + 1)))
            }
            var killed = 0
            for (n, (_, token)) in tokens.enumerated() {
                let p = try ChildProcess(CommandLine.binary, ["meter", "enter", "--state", state, token])
                usleep(useconds_t((n * 7919) % 40_000))  // 0–40 ms, spread over the process's life
                p.kill(SIGKILL)
                p.wait()
                if p.signalled { killed += 1 }
                let (tids, tenths) = try Self.recorded(state)
                #expect(tenths == tids.map { units[$0]! }.reduce(0, +), "credited exactly the remembered tokens")
            }
            #expect(killed > 0, "some entries were really interrupted")
            // Every token can still be entered afterwards; each is applied exactly once overall.
            for (_, token) in tokens { _ = try CommandLine.run(["meter", "enter", "--state", state, token]) }
            let (tids, tenths) = try Self.recorded(state)
            #expect(tids.count == 30 && tenths == units.values.reduce(0, +))
        }

        @Test("the keypad in tmux: digits as typed, result, credit and relay on the display")
        func keypad() throws {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
                if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("tmux is missing: the README's test command installs it") }
                return
            }
            let state = try Self.newMeter()
            let token = try Self.credit(tid: 6_000_000, units: 123)
            let session = "stsvend-keypad-\(getpid())"
            func tmux(_ args: [String]) throws -> String { try ChildProcess.run("/usr/bin/tmux", args).1 }
        func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]) }
            func waitFor(_ text: String) throws -> Bool {
                for _ in 0..<50 { if try screen().contains(text) { return true }; usleep(100_000) }
                return false
            }
            _ = try tmux(["new-session", "-d", "-s", session, "-x", "80", "-y", "20", "\(CommandLine.binary) meter keypad --state \(state)"])
            defer { _ = try? tmux(["kill-session", "-t", session]) }
            #expect(try waitFor("Enter token"))
            #expect(try screen().contains("RELAY OFF"))
            _ = try tmux(["send-keys", "-t", session, String(token.prefix(8))])
            #expect(try waitFor("> " + token.prefix(4) + " " + token.dropFirst(4).prefix(4) + "_"), "digits appear as typed, in groups of four")
            _ = try tmux(["send-keys", "-t", session, String(token.dropFirst(8)), "Enter"])
            #expect(try waitFor("ACCEPt"))
            let s = try screen()
            #expect(s.contains("CREDIT 12.3 kWh") && s.contains("RELAY ON"), "\(s)")
            _ = try tmux(["send-keys", "-t", session, token, "Enter"])
            #expect(try waitFor("USEd"))
            _ = try tmux(["send-keys", "-t", session, "12345", "BSpace", "BSpace", "Enter"])
            #expect(try waitFor("Err FOrMAt"))
            _ = try tmux(["send-keys", "-t", session, "q"])
            let (_, tenths) = try Self.recorded(state)
            #expect(tenths == 123)
        }
    }
}
