import Foundation
import STSStation
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// A currency meter sold from the station and run by the simulator across time-of-use periods.
    @Suite(.serialized)
    struct CurrencyMeterCommandLineTests {
        @Test("a currency meter bought 100.00 at the station, run 48 h across peak and off-peak, ends where the TOU table says")
        func currencyDay() throws {
            let s = try StationCommandLineTests.Session()
            // Monday 2024-01-01 00:00 UTC: the simulated run starts at the start of a weekday.
            s.now = 1_704_067_200
            try CommandLine.write("station password\n", to: s.dir.appendingPathComponent("pw"))
            try CommandLine.write("0123456789ABCDEF\n", to: s.dir.appendingPathComponent("k1.hex"))
            try CommandLine.write(#"{"k1":"0123456789ABCDEF"}"#, to: s.dir.appendingPathComponent("keys.json"))
            var r = try s.run(["station", "init", "--test-clock", "--db", s.path("s.db"), "--admin", "sue", "--password-file", s.path("pw"),
                               "--totp-secret-out", s.path("sue.totp")])
            #expect(r.status == 0, "\(r.stderr)")
            s.secret = Base32.decode(try String(contentsOfFile: s.path("sue.totp"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            r = try s.run(["key", "import"] + s.auth + s.totp() + ["--name", "k1", "--file", s.path("k1.hex"), "--dkga", "2", "--ea", "7",
                                                                  "--base-date", "2014", "--sgc", "123456", "--krn", "1", "--kt", "2", "--ti", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            // The simulator's default table as a file (Specs/meter.md), the fuzz target's seed.
            try CommandLine.write(try String(contentsOf: PublicVectors.root.appendingPathComponent("Fixtures/fuzz/tou-table/default.txt"), encoding: .utf8),
                                  to: s.dir.appendingPathComponent("tou.txt"))
            r = try s.run(["tariff", "set"] + s.auth + s.totp() + ["--name", "home", "--flat", "1.50", "--vat", "15", "--tou-file", s.path("tou.txt")])
            #expect(r.status == 0, "\(r.stderr)")
            let pan = "600727000000000009"
            r = try s.run(["meter", "add"] + s.auth + ["--pan", pan, "--key", "k1", "--tariff", "home", "--customer", "Cai", "--currency"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["sell"] + s.auth + ["--meter", pan, "--units", "10", "--json"])
            #expect(r.status == 5 && r.stderr.contains("currency-meter"), "a currency meter is sold money: \(r.stderr)")
            r = try s.run(["sell"] + s.auth + ["--meter", pan, "--money", "100.00", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let sale = CommandLine.json(r.stdout)
            // 100.00 is not an STS currency amount: the largest one not above it is exponent 3,
            // mantissa ⌊(10 000 000 − 1 818 624) / 1 000⌋ = 8 181 → 1 818 624 + 8 181 000 = 9 999 624 (99.99624).
            #expect(sale["currency"] as? Double == 99.99624 && sale["units_tenths"] as? Int == 0, "\(r.stdout)")
            let receipt = sale["receipt"] as? [String: Any] ?? [:]
            #expect((receipt["currency"] as? [String: Any])?["cost"] as? String == "100.00" && receipt["carried_out"] as? String == "0.00")

            // The simulator's currency meter with the default table (weekday: peak 07–10 and
            // 18–20 at 3.00, off-peak 22–06 at 0.80, standard 1.50 otherwise).
            let state = s.path("meter.state")
            r = try s.run(["meter", "init", "--state", state, "--pan", pan, "--sgc", "123456", "--ti", "1", "--krn", "1", "--kt", "2",
                           "--base-date", "2014", "--dkga", "2", "--ea", "7", "--currency", "--warn-money", "50.00,5.00", "--vending-key-file", "-"],
                           stdin: "0123456789ABCDEF\n")
            #expect(r.status == 0, "\(r.stderr)")
            let entered = CommandLine.json(try s.run(["meter", "enter", "--state", state, sale["token"] as? String ?? "", "--json"]).stdout)
            #expect(entered["result"] as? String == "accept" && (entered["credit"] as? [String: Any])?["electricity-currency"] as? Double == 99.99624)

            // 48 h at 1 kW from Monday 00:00: each weekday is 5 h peak, 11 h standard, 8 h off-peak:
            // 5 × 3.00 + 11 × 1.50 + 8 × 0.80 = 37.90 a day, 75.80 for two: 99.99624 − 75.80 = 24.19624.
            let run = CommandLine.json(try s.run(["meter", "run", "--state", state, "--load-watts", "1000", "--hours", "48", "--json"]).stdout)
            #expect((run["credit"] as? [String: Any])?["electricity-currency"] as? Double == 24.19624, "\(run)")
            #expect(run["charged"] as? Double == 75.8 && run["relay"] as? String == "closed")
            let byPeriod = run["charged_by_period"] as? [String: Any] ?? [:]
            #expect(byPeriod["peak"] as? Double == 30.0 && byPeriod["standard"] as? Double == 33.0 && byPeriod["off-peak"] as? Double == 12.8, "\(byPeriod)")
            #expect((run["run_events"] as? [String] ?? []).contains { $0.hasPrefix("warning: low credit") && $0.contains("(threshold 50)") }, "warned below 50.00: \(run)")

            // On from Wednesday 00:00 until the money runs out: the relay opens at exactly zero.
            s.now += 48 * 3600
            let out = CommandLine.json(try s.run(["meter", "run", "--state", state, "--load-watts", "1000", "--hours", "24", "--json"]).stdout)
            #expect((out["credit"] as? [String: Any])?["electricity-currency"] as? Double == 0 && out["relay"] as? String == "open-no-credit", "\(out)")
            #expect((out["run_events"] as? [String] ?? []).contains { $0.hasPrefix("warning: low credit") && $0.contains("(threshold 5)") }, "warned below 5.00: \(out)")

            // The report groups the sale by the tariff's TOU period it was made in (Monday 00:00: off-peak).
            let report = CommandLine.json(try s.run(["report"] + s.auth + ["--from", "2024-01-01", "--to", "2024-01-07", "--json"]).stdout)
            #expect("\(report["periods"] ?? "none")".contains("off-peak"), "\(report)")
            // The station's log checks the currency sale: its money, and with the key its token's amount.
            let export = CommandLine.json(try s.run(["audit", "export"] + s.auth + ["--out", s.path("log.jsonl"), "--json"]).stdout)
            let verified = CommandLine.json(try s.run(["audit", "verify", s.path("log.jsonl"), "--public-key", s.path("s.db.pub"), "--keys", s.path("keys.json"),
                                                       "--head", export["head"] as? String ?? "", "--json"]).stdout)
            #expect(verified["clean"] as? Bool == true && verified["tokens_decrypted"] as? Int == 1, "\(verified)")
        }
    }
}
