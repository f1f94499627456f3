import Foundation
import STSStation
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// The station through its documented scripting interface, as operators and auditors use it:
    /// init, key import, tariff, meter, sell, reprint, reverse, tenant change, a campaign, export,
    /// verify, tamper, verify again; every token goes into the meter simulator.
    @Suite(.serialized)
    struct StationCommandLineTests {
        final class Session {
            let dir: URL
            var now: Int64 = 1_795_000_000
            var secret: [UInt8] = []
            init() throws { dir = try CommandLine.temporaryDirectory() }
            func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

            func run(_ args: [String], stdin: String? = nil) throws -> CommandLine.Output {
                let (status, out, err) = try ChildProcess.run(CommandLine.binary, args, environment: ["STSVEND_NOW": "\(now)"], input: stdin)
                return CommandLine.Output(status: status, stdout: out, stderr: err)
            }
            var auth: [String] { ["--db", path("s.db"), "--user", "sue", "--password-file", path("pw")] }
            /// Moves the clock a TOTP step and returns the code for it.
            func totp() -> [String] {
                now += 30
                return ["--totp", TOTP(secret: secret).code(atUnixSeconds: now)]
            }
        }

        @Test("station: a scripted day, verified offline, then tampered")
        func scriptedDay() throws {
            let s = try Session()
            try CommandLine.write("station password\n", to: s.dir.appendingPathComponent("pw"))
            try CommandLine.write("0123456789ABCDEF\n", to: s.dir.appendingPathComponent("k1.hex"))
            try CommandLine.write("FEDCBA9876543210\n", to: s.dir.appendingPathComponent("k2.hex"))
            try CommandLine.write(#"{"k1":"0123456789ABCDEF","k2":"FEDCBA9876543210"}"#, to: s.dir.appendingPathComponent("keys.json"))

            var r = try s.run(["station", "init", "--test-clock", "--db", s.path("s.db"), "--admin", "sue", "--password-file", s.path("pw"),
                               "--totp-secret-out", s.path("sue.totp")])
            #expect(r.status == 0, "\(r.stderr)")
            s.secret = Base32.decode(try String(contentsOfFile: s.path("sue.totp"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            #expect(try String(contentsOfFile: s.path("s.db.pub"), encoding: .utf8).hasPrefix("stsvend-station-ed25519 "))

            let keyArgs = ["--dkga", "2", "--ea", "7", "--base-date", "2014", "--sgc", "123456", "--kt", "2", "--ti", "1"]
            // Without the second factor a key import is refused with exit 5 (rules) or 3 (auth).
            r = try s.run(["key", "import"] + s.auth + ["--name", "k1", "--file", s.path("k1.hex"), "--krn", "1"] + keyArgs)
            #expect(r.status != 0 && r.stderr.contains("--totp"))
            r = try s.run(["key", "import"] + s.auth + s.totp() + ["--name", "k1", "--file", s.path("k1.hex"), "--krn", "1"] + keyArgs)
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["key", "import"] + s.auth + s.totp() + ["--name", "k2", "--file", s.path("k2.hex"), "--krn", "2"] + keyArgs)
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["tariff", "set"] + s.auth + s.totp() + ["--name", "home", "--block", "50=1.20", "--block", "rest=1.80", "--fbe", "10", "--vat", "15"])
            #expect(r.status == 0, "\(r.stderr)")
            let pan = "600727000000000009"
            r = try s.run(["meter", "add"] + s.auth + ["--pan", pan, "--key", "k1", "--tariff", "home", "--customer", "Alice", "--arrears", "20"])
            #expect(r.status == 0, "\(r.stderr)")

            // The meter simulator with the same key.
            let state = s.path("meter.state")
            r = try s.run(["meter", "init", "--state", state, "--pan", pan, "--sgc", "123456", "--ti", "1", "--krn", "1", "--kt", "2",
                           "--base-date", "2014", "--dkga", "2", "--ea", "7", "--vending-key-file", "-"], stdin: "0123456789ABCDEF\n")
            #expect(r.status == 0, "\(r.stderr)")
            func enter(_ token: String) throws -> String {
                let out = try s.run(["meter", "enter", "--state", state, token, "--json"])
                return CommandLine.json(out.stdout)["result"] as? String ?? out.stderr
            }

            r = try s.run(["sell"] + s.auth + ["--meter", pan, "--money", "100.00", "--request-id", "r1", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let sale = CommandLine.json(r.stdout)
            let token = sale["token"] as! String
            #expect(token.count == 20 && sale["tid"] is Int && (sale["units"] as? Double) == 65.3)
            let receipt = sale["receipt"] as! [String: Any]
            #expect((receipt["deductions"] as! [[String: Any]]).first?["kind"] as? String == "arrears")
            #expect(try enter(token) == "accept")

            // Retry and reprint: the same token.
            r = try s.run(["sell"] + s.auth + ["--meter", pan, "--money", "100.00", "--request-id", "r1", "--json"])
            #expect(CommandLine.json(r.stdout)["token"] as? String == token && CommandLine.json(r.stdout)["replayed"] as? Bool == true)
            r = try s.run(["reprint"] + s.auth + ["--sale", "\(sale["sale"] as! Int)", "--json"])
            #expect(CommandLine.json(r.stdout)["token"] as? String == token)

            // A second sale, reversed.
            s.now += 60
            r = try s.run(["sell"] + s.auth + ["--meter", pan, "--units", "12.5", "--request-id", "r2", "--json"])
            let second = CommandLine.json(r.stdout)
            r = try s.run(["reverse"] + s.auth + ["--sale", "\(second["sale"] as! Int)", "--reason", "never entered"])
            #expect(r.status == 64 && r.stderr.contains("the token still works") && r.stderr.contains("See 'stsvend reverse --help'"),
                    "a reversal needs the supervisor's word that the token was not entered: \(r.stderr)")
            r = try s.run(["reverse"] + s.auth + ["--sale", "\(second["sale"] as! Int)", "--reason", "never entered", "--confirm-not-entered"])
            #expect(r.status == 0 && r.stdout.contains("refund 25.85") && r.stdout.contains("not cancelled"), "\(r.stdout)\(r.stderr)")

            // Tenant change, then a sale to the new tenant.
            r = try s.run(["tenant", "change"] + s.auth + ["--meter", pan, "--customer", "Bob"])
            #expect(r.status == 0, "\(r.stderr)")
            s.now += 60
            r = try s.run(["sell"] + s.auth + ["--meter", pan, "--money", "30", "--request-id", "r3", "--json"])
            #expect(try enter(CommandLine.json(r.stdout)["token"] as! String) == "accept")

            // Campaign: k1 → k2 (KRN 1 → 2).
            r = try s.run(["campaign", "start"] + s.auth + s.totp() + ["--name", "krn2", "--from-key", "k1", "--to-key", "k2"])
            #expect(r.status == 0 && r.stdout.contains("1 meters pending"), "\(r.stdout)\(r.stderr)")
            r = try s.run(["campaign", "run"] + s.auth + ["--name", "krn2", "--out", s.path("sets.jsonl")])
            #expect(r.status == 0, "\(r.stderr)")
            let set = CommandLine.json(try String(contentsOfFile: s.path("sets.jsonl"), encoding: .utf8).split(separator: "\n")[0].description)
            let kct = set["tokens"] as! [String]
            #expect(kct.count == 2)
            #expect(try enter(kct[0]) == "1st-kct")
            #expect(try enter(kct[1]) == "2nd-kct")
            r = try s.run(["campaign", "confirm"] + s.auth + ["--name", "krn2", "--meter", pan])
            #expect(r.status == 0, "\(r.stderr)")
            s.now += 60
            r = try s.run(["sell"] + s.auth + ["--meter", pan, "--money", "10", "--request-id", "r4", "--json"])
            #expect(try enter(CommandLine.json(r.stdout)["token"] as! String) == "accept")

            // Wrong password: exit 3, logged.
            try CommandLine.write("wrong password\n", to: s.dir.appendingPathComponent("bad"))
            r = try s.run(["sell", "--db", s.path("s.db"), "--user", "sue", "--password-file", s.path("bad"), "--meter", pan, "--money", "1", "--request-id", "x"])
            #expect(r.status == 3 && r.stderr.contains("authentication failed"))

            // Export, verify clean with the keys, tamper, verify fails at the entry.
            r = try s.run(["audit", "export"] + s.auth + ["--out", s.path("log.jsonl"), "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let head = CommandLine.json(r.stdout)["head"] as! String
            r = try s.run(["audit", "verify", s.path("log.jsonl"), "--public-key", s.path("s.db.pub"), "--keys", s.path("keys.json"), "--head", head, "--json"])
            let report = CommandLine.json(r.stdout)
            #expect(r.status == 0 && report["clean"] as? Bool == true, "\(r.stdout)")
            #expect(report["tokens"] as? Int == report["tokens_decrypted"] as? Int)

            var lines = try String(contentsOfFile: s.path("log.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
            let saleLine = lines.firstIndex { $0.contains(#""type":"sale""#) }!
            lines[saleLine] = lines[saleLine].replacingOccurrences(of: #""money":"100.00""#, with: #""money":"900.00""#)
            try CommandLine.write(lines.joined(separator: "\n") + "\n", to: s.dir.appendingPathComponent("tampered.jsonl"))
            r = try s.run(["audit", "verify", s.path("tampered.jsonl"), "--public-key", s.path("s.db.pub")])
            #expect(r.status == 1)
            #expect(r.stdout.hasPrefix("line \(saleLine + 1) (seq \(saleLine + 1)): hash:"), "\(r.stdout)")
        }

        @Test("station: sell-batch commits groups and is safe to rerun")
        func sellBatch() throws {
            let s = try Session()
            try CommandLine.write("station password\n", to: s.dir.appendingPathComponent("pw"))
            try CommandLine.write("0123456789ABCDEF\n", to: s.dir.appendingPathComponent("k1.hex"))
            _ = try s.run(["station", "init", "--test-clock", "--db", s.path("s.db"), "--admin", "sue", "--password-file", s.path("pw"), "--totp-secret-out", s.path("sue.totp")])
            s.secret = Base32.decode(try String(contentsOfFile: s.path("sue.totp"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            _ = try s.run(["key", "import"] + s.auth + s.totp() + ["--name", "k1", "--file", s.path("k1.hex"), "--dkga", "2", "--ea", "7",
                                                                  "--base-date", "2014", "--sgc", "123456", "--krn", "1", "--kt", "2", "--ti", "1"])
            _ = try s.run(["tariff", "set"] + s.auth + s.totp() + ["--name", "flat", "--flat", "1.50"])
            var r = try s.run(["meter", "add"] + s.auth + ["--pan", "600727000000000009", "--key", "k1", "--tariff", "flat"])
            #expect(r.status == 0, "\(r.stderr)")
            var csv = "meter,money\n"
            for _ in 0..<25 { csv += "600727000000000009,10.00\n" }
            csv += "000001000000000082,10.00\n"      // not registered
            try CommandLine.write(csv, to: s.dir.appendingPathComponent("in.csv"))
            r = try s.run(["sell-batch"] + s.auth + ["--csv", s.path("in.csv"), "--out", s.path("out.csv"), "--group", "10"])
            #expect(r.status == 2, "\(r.stderr)")
            let out = try String(contentsOfFile: s.path("out.csv"), encoding: .utf8).split(separator: "\n")
            #expect(out.count == 27 && out.filter { $0.contains(",sold,") }.count == 25 && out.last!.contains("refused"))
            // Rerun: nothing is sold twice.
            r = try s.run(["sell-batch"] + s.auth + ["--csv", s.path("in.csv"), "--out", s.path("out2.csv"), "--group", "10"])
            let again = try String(contentsOfFile: s.path("out2.csv"), encoding: .utf8).split(separator: "\n")
            #expect(again.filter { $0.contains(",replayed,") }.count == 25)
            #expect(zip(out, again).dropFirst().allSatisfy { $0.split(separator: ",").dropLast(2).last == $1.split(separator: ",").dropLast(2).last })
        }
    }
}
