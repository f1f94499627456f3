import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import STSStation
import STSTestFixtures
import STSTokenFormat
import Testing

extension CommandLineSuites {
    /// The Electrum Prepaid Utility interface (issue 15) on `stsvend serve`, driven by a client
    /// written only from the interface's documentation (Tests/POS/pusi_client.py); its tokens are
    /// entered on simulated meters; a server killed between commit and answer is retried.
    @Suite(.serialized)
    struct PrepaidUtilityCommandLineTests {
        /// A test-clock station set up through the documented commands: block tariff with free
        /// basic electricity, VAT and a POS fee; meters with arrears, debt, a fixed charge, a card
        /// meter, a blocked meter and one with a key change pending; one POS client.
        final class Utility {
            let dir: URL
            var now: Int64 = 1_795_000_000
            var secret: [UInt8] = []
            let meter = "600727000000000009", debtMeter = "600727000000000181", fixedMeter = "600727000000000264"
            let cardMeter = MeterPAN.meterNumber(serial: 5) ?? "", blockedMeter = MeterPAN.meterNumber(serial: 6) ?? "", kcMeter = MeterPAN.meterNumber(serial: 7) ?? ""
            init() throws { dir = try CommandLine.temporaryDirectory() }
            func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
            var environment: [String: String] { ["STSVEND_NOW": "\(now)"] }

            @discardableResult
            func run(_ args: [String]) throws -> CommandLine.Output {
                let (status, out, err) = try ChildProcess.run(CommandLine.binary, args, environment: environment)
                #expect(status == 0, "\(args.prefix(3).joined(separator: " ")): \(err)")
                return CommandLine.Output(status: status, stdout: out, stderr: err)
            }
            var auth: [String] { ["--db", path("s.db"), "--user", "sue", "--password-file", path("pw")] }
            func totp() -> [String] {
                now += 30
                return ["--totp", TOTP(secret: secret).code(atUnixSeconds: now)]
            }
            func key(_ name: String, _ hex: String, krn: String) throws {
                try CommandLine.write(hex + "\n", to: dir.appendingPathComponent(name + ".hex"))
                try run(["key", "import"] + auth + totp() + ["--name", name, "--file", path(name + ".hex"), "--krn", krn, "--dkga", "2",
                                                             "--ea", "7", "--base-date", "2014", "--sgc", "123456", "--kt", "2", "--ti", "1"])
            }

            static func make() throws -> Utility {
                let u = try Utility()
                try CommandLine.write("station password\n", to: u.dir.appendingPathComponent("pw"))
                try u.run(["station", "init", "--test-clock", "--db", u.path("s.db"), "--admin", "sue", "--password-file", u.path("pw"),
                           "--totp-secret-out", u.path("sue.totp")])
                u.secret = Base32.decode(try String(contentsOfFile: u.path("sue.totp"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
                try u.key("k1", "0123456789ABCDEF", krn: "1")
                try u.key("k2", "FEDCBA9876543210", krn: "2")
                try u.key("k3", "1122334455667788", krn: "3")
                try u.run(["tariff", "set"] + u.auth + u.totp() + ["--name", "res", "--block", "50=1.20", "--block", "rest=1.80", "--fbe", "10",
                                                                   "--vat", "15", "--channel-fee", "pos=1.50"])
                try u.run(["meter", "add"] + u.auth + ["--pan", u.meter, "--key", "k1", "--tariff", "res", "--customer", "Thandi Mokoena",
                                                        "--address", "Block A, flat 1", "--arrears", "20.00"])
                try u.run(["meter", "add"] + u.auth + ["--pan", u.debtMeter, "--key", "k1", "--tariff", "res", "--customer", "Li Wei",
                                                        "--address", "Block B", "--debt", "45.00", "--debt-recovery", "20"])
                try u.run(["meter", "add"] + u.auth + ["--pan", u.fixedMeter, "--key", "k1", "--tariff", "res", "--customer", "Carlos Mendes",
                                                        "--address", "Shop 2", "--fixed-monthly", "5.00"])
                try u.run(["meter", "add"] + u.auth + ["--pan", u.cardMeter, "--key", "k1", "--tariff", "res", "--customer", "Card Owner", "--card"])
                try u.run(["meter", "add"] + u.auth + ["--pan", u.blockedMeter, "--key", "k1", "--tariff", "res", "--customer", "Blocked"])
                try u.run(["meter", "add"] + u.auth + ["--pan", u.kcMeter, "--key", "k3", "--tariff", "res", "--customer", "Key Change"])
                try u.run(["meter", "block"] + u.auth + u.totp() + ["--meter", u.blockedMeter, "--reason", "seal broken"])
                try u.run(["campaign", "start"] + u.auth + u.totp() + ["--name", "kc", "--from-key", "k3", "--to-key", "k2"])
                try u.run(["campaign", "run"] + u.auth + u.totp() + ["--name", "kc"])
                try u.run(["pos", "client", "add"] + u.auth + u.totp() + ["--name", "shop", "--currency", "710", "--min", "5.00", "--max", "2000.00",
                                                                          "--reversals", "--allow-ip", "127.0.0.1", "--allow-ip", "::1",
                                                                          "--secret-out", u.path("shop.secret")])
                return u
            }

            /// A simulated meter on key `hex` (the attributes the keys above share).
            func sim(_ pan: String, key: String, krn: String) throws -> String {
                let state = path("sim-\(pan).json")
                try run(["sim", "init", "--state", state, "--pan", pan, "--sgc", "123456", "--ti", "1", "--krn", krn, "--base-date", "2014",
                         "--dkga", "2", "--ea", "7", "--vending-key-file", path(key + ".hex")])
                return state
            }
        }

        static func post(_ url: String, _ body: [String: Any], secret: String) async throws -> (Int, [String: Any]) {
            var r = URLRequest(url: URL(string: url)!)
            r.httpMethod = "POST"
            r.timeoutInterval = 30
            r.httpBody = try JSONSerialization.data(withJSONObject: body)
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
            r.setValue("Basic " + Data("shop:\(secret)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: r)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }

        static func purchase(_ id: String, meter: String, cents: Int) -> [String: Any] {
            ["id": id, "time": "2026-11-18T08:00:00.000Z",
             "originator": ["institution": ["id": "99", "name": "Bank"], "terminalId": "ATM00001",
                            "merchant": ["merchantId": "000000000000001", "merchantType": "6011",
                                         "merchantName": ["name": "Bank", "city": "Durban", "region": "KZ", "country": "ZA"]]],
             "client": ["id": "99", "name": "Bank"], "thirdPartyIdentifiers": [] as [Any],
             "meter": ["meterId": meter], "purchaseAmount": ["amount": cents, "currency": "710"]]
        }

        @Test("every resource through a client written from the interface's documentation; its tokens accepted once, in order; settlement per terminal; the log verifies")
        func documentedClient() async throws {
            let u = try Utility.make()
            let (server, url) = try CommandLine.serve(["--db", u.path("s.db"), "--listen", "127.0.0.1:0", "--utility-name", "Garden City Power"],
                                                      in: u.dir, environment: u.environment)
            defer { if server.isRunning { server.kill(SIGTERM); _ = server.wait() } }
            #expect(!url.isEmpty, "the server did not start")
            let script = PublicVectors.root.appendingPathComponent("Tests/POS/pusi_client.py").path
            let (status, out, err) = try ChildProcess.run("/usr/bin/env", [
                "python3", script, "--url", url, "--client", "shop", "--secret-file", u.path("shop.secret"), "--out", u.path("tokens.json"),
                "--meter", u.meter, "--debt-meter", u.debtMeter, "--fixed-meter", u.fixedMeter, "--card-meter", u.cardMeter,
                "--blocked-meter", u.blockedMeter, "--kc-meter", u.kcMeter, "--min", "500", "--max", "200000"])
            #expect(status == 0, "the documented client: \(out)\n\(err)")
            let issued = (CommandLine.json(try String(contentsOfFile: u.path("tokens.json"), encoding: .utf8))["tokens"] as? [String: [String]]) ?? [:]

            // Every token the client was given goes into its meter once, in the order issued; again, never.
            let meters: [(String, String, String)] = [(u.meter, "k1", "1"), (u.debtMeter, "k1", "1"), (u.kcMeter, "k3", "3")]
            #expect(issued[u.meter]?.count == 3, "meter 1: BSST + STD, then one more: \(issued[u.meter] ?? [])")
            #expect(issued[u.debtMeter]?.count == 3, "debt meter: the retried purchase (BSST + STD) and the one first seen as a retry")
            #expect(issued[u.kcMeter]?.count == 2, "two key change tokens")
            for (pan, key, krn) in meters {
                let state = try u.sim(pan, key: key, krn: krn)
                for token in issued[pan] ?? [] {
                    let entered = try ChildProcess.run(CommandLine.binary, ["sim", "enter", "--state", state, token, "--json"], environment: u.environment)
                    #expect(CommandLine.json(entered.1)["accepted"] as? Bool == true, "meter \(pan) accepts \(token): \(entered.1) \(entered.2)")
                }
                if let first = issued[pan]?.first {
                    let again = try ChildProcess.run(CommandLine.binary, ["sim", "enter", "--state", state, first, "--json"], environment: u.environment)
                    #expect(CommandLine.json(again.1)["accepted"] as? Bool == false, "meter \(pan) refuses \(first) a second time: \(again.1)")
                }
            }

            // Settlement per terminal: 4 purchases stand (2 + 2), 1 reversed; all at the client's terminal.
            let day = String(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(u.now))).prefix(10))
            let report = try u.run(["report"] + u.auth + ["--from", day, "--to", day, "--by", "terminal", "--json"])
            let rows = CommandLine.json(report.stdout)["rows"] as? [[String: Any]] ?? []
            #expect(rows.count == 1, "\(report.stdout)")
            #expect(rows.first?["client"] as? String == "shop" && rows.first?["merchant"] as? String == "000000000000777"
                    && rows.first?["terminal"] as? String == "T0000042", "\(rows)")
            #expect(rows.first?["purchases"] as? Int == 4 && rows.first?["reversed"] as? Int == 1 && rows.first?["confirmed"] as? Int == 1, "\(rows)")
            #expect(rows.first?["tokens"] as? Int == 6, "BSST + STD on each meter's first purchase, then one token each: \(rows)")

            // Fault reports reach the supervisors; the signed log verifies with every POS entry in it.
            let faults = CommandLine.json(try u.run(["pos", "faults"] + u.auth + ["--json"]).stdout)["faults"] as? [[String: Any]] ?? []
            #expect(faults.count == 2 && faults.allSatisfy { $0["fault"] as? String == "KEEPS_TRIPPING" }, "\(faults)")
            try u.run(["audit", "export"] + u.auth + ["--out", u.path("log.jsonl")])
            let verified = try u.run(["audit", "verify", u.path("log.jsonl"), "--public-key", u.path("s.db.pub")])
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
            let log = try String(contentsOfFile: u.path("log.jsonl"), encoding: .utf8)
            #expect(log.contains("\"type\":\"pos_client\"") && log.contains("\"type\":\"pos_advice\"") && log.contains("\"type\":\"pos_fault\"")
                    && log.contains("\"type\":\"meter_block\""), "the POS entries are in the signed log")
            let secretText = try String(contentsOfFile: u.path("shop.secret"), encoding: .utf8).trimmingCharacters(in: .newlines)
            #expect(!log.contains(secretText), "never the secret")
            let requestLog = try String(contentsOfFile: u.path("serve.err"), encoding: .utf8)
            #expect(requestLog.contains("pos:shop") && !requestLog.contains("Basic ") && !requestLog.contains(secretText), "the request log names the client, never its credentials")
        }

        @Test("a server killed between a purchase's commit and its answer: the retry returns the committed tokens, nothing is issued twice")
        func killedBetweenCommitAndAnswer() async throws {
            let u = try Utility.make()
            let secret = try String(contentsOfFile: u.path("shop.secret"), encoding: .utf8).trimmingCharacters(in: .newlines)
            var env = u.environment
            env["STSVEND_FAULT_KILL_AFTER_POS_COMMIT"] = "1"
            let (doomed, url) = try CommandLine.serve(["--db", u.path("s.db"), "--listen", "127.0.0.1:0"], in: u.dir, environment: env)
            #expect(!url.isEmpty)
            let id = UUID().uuidString.lowercased()
            let body = Self.purchase(id, meter: u.meter, cents: 10_000)
            // The client sees no answer: a dropped connection, the interface's "outcome unknown".
            var lost = false
            do { _ = try await Self.post(url + "/prepaidutility/v3/tokenPurchases/\(id)", body, secret: secret) } catch { lost = true }
            #expect(lost, "the answer must be lost")
            #expect(doomed.wait() == 128 + SIGKILL, "the server died by SIGKILL")

            let (server, url2) = try CommandLine.serve(["--db", u.path("s.db"), "--listen", "127.0.0.1:0"], in: u.dir, environment: u.environment)
            defer { if server.isRunning { server.kill(SIGTERM); _ = server.wait() } }
            let (status, retried) = try await Self.post(url2 + "/prepaidutility/v3/tokenPurchases/\(id)/retry", body, secret: secret)
            #expect(status == 202, "\(retried)")
            let tokens = (retried["tokens"] as? [[String: Any]] ?? []).compactMap { $0["token"] as? String }
            #expect(tokens.count == 2, "the committed purchase's two tokens (free, bought): \(retried)")
            let (again, second) = try await Self.post(url2 + "/prepaidutility/v3/tokenPurchases/\(id)/retry", body, secret: secret)
            #expect(again == 202 && (second["tokens"] as? [[String: Any]] ?? []).compactMap { $0["token"] as? String } == tokens)
            // One sale in the station for the purchase, and the meter takes its tokens once.
            let report = try u.run(["report"] + u.auth + ["--from", "2026-01-01", "--to", "2027-12-31", "--by", "client", "--json"])
            let rows = CommandLine.json(report.stdout)["rows"] as? [[String: Any]] ?? []
            #expect(rows.first?["purchases"] as? Int == 1, "\(report.stdout)")
            let state = try u.sim(u.meter, key: "k1", krn: "1")
            for t in tokens {
                let entered = try ChildProcess.run(CommandLine.binary, ["sim", "enter", "--state", state, t, "--json"], environment: u.environment)
                #expect(CommandLine.json(entered.1)["accepted"] as? Bool == true, "\(entered.1) \(entered.2)")
            }
            // Disabled while its credentials are remembered by the server: the next purchase is refused at once.
            try u.run(["pos", "client", "disable"] + u.auth + u.totp() + ["--name", "shop"])
            let late = UUID().uuidString.lowercased()
            // (curl: Foundation's URLSession on Linux stalls on a 401 that carries a Basic challenge.)
            try String(decoding: try JSONSerialization.data(withJSONObject: Self.purchase(late, meter: u.meter, cents: 5_000)), as: UTF8.self)
                .write(toFile: u.path("late.json"), atomically: true, encoding: .utf8)
            let (_, code, _) = try ChildProcess.run("/usr/bin/env", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "shop:\(secret)",
                                                                    "-H", "Content-Type: application/json", "--data-binary", "@" + u.path("late.json"),
                                                                    url2 + "/prepaidutility/v3/tokenPurchases/\(late)"])
            #expect(code == "401", "a disabled client sells nothing")
            try u.run(["audit", "export"] + u.auth + ["--out", u.path("log.jsonl")])
            #expect(try u.run(["audit", "verify", u.path("log.jsonl"), "--public-key", u.path("s.db.pub")]).status == 0)
        }
    }
}
