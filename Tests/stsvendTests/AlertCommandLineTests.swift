import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// Alerts end to end: the demo's connected meters (one runs out of credit during its week of
    /// history), the server reading them, and the alert arriving at a local webhook receiver
    /// (which checks the signature), an SMTP sink (aiosmtpd) and an SMS gateway endpoint. Then a
    /// sale to the cut-off meter reaches it at once and its supply comes back.
    @Suite(.serialized)
    struct AlertCommandLineTests {
        static var sinksReady: Bool { (try? ChildProcess.run("/usr/bin/env", ["python3", "-c", "import aiosmtpd"]).0) == 0 }

        @Test("a supply cut at zero credit alerts by signed webhook, email and SMS; a sale restores the supply through the token gateway")
        func alertsAndRestore() async throws {
            guard Self.sinksReady else {
                if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("aiosmtpd missing: the README's test command installs it") }
                return
            }
            let dir = try CommandLine.temporaryDirectory()
            let secret = dir.appendingPathComponent("webhook.secret")
            try CommandLine.write("a webhook secret of 32 bytes....", to: secret)
            let sinksDir = dir.appendingPathComponent("sinks")
            try FileManager.default.createDirectory(at: sinksDir, withIntermediateDirectories: true)
            let script = PublicVectors.root.appendingPathComponent("Tests/DLMS/alert_sinks.py").path
            let sinks = try ChildProcess("/usr/bin/env", ["python3", script, "--secret-file", secret.path, "--out", sinksDir.path],
                                         stdout: dir.appendingPathComponent("sinks.out").path, stderr: dir.appendingPathComponent("sinks.err").path)
            defer { sinks.kill(SIGTERM); sinks.wait() }
            var ports: [String: Any] = [:]
            for _ in 0..<200 {
                if let d = FileManager.default.contents(atPath: sinksDir.appendingPathComponent("ports.json").path),
                   let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] { ports = o; break }
                usleep(50_000)
            }
            let http = ports["http"] as? Int ?? 0, smtp = ports["smtp"] as? Int ?? 0
            #expect(http > 0 && smtp > 0, "the sinks started: \((try? String(contentsOfFile: dir.appendingPathComponent("sinks.err").path, encoding: .utf8)) ?? "")")

            let demo = dir.appendingPathComponent("demo").path
            let made = try CommandLine.run(["station", "demo", "--dir", demo, "--fleet", "3"])
            #expect(made.status == 0, "\(made.stderr)")
            let fleetOut = dir.appendingPathComponent("fleet.out").path
            let fleet = try ChildProcess(CommandLine.binary, ["sim", "fleet", "run", "--folder", demo + "/fleet", "--tick", "5"],
                                         stdout: fleetOut, stderr: dir.appendingPathComponent("fleet.err").path)
            defer { fleet.kill(SIGTERM); fleet.wait() }
            for _ in 0..<200 where !((try? String(contentsOfFile: fleetOut, encoding: .utf8)) ?? "").hasPrefix("dlms fleet") { usleep(50_000) }
            let (server, url) = try CommandLine.serve(["--db", demo + "/station.db", "--listen", "127.0.0.1:0", "--reading-interval", "3600",
                                                       "--webhook-url", "http://127.0.0.1:\(http)/webhook", "--webhook-secret-file", secret.path,
                                                       "--smtp", "127.0.0.1:\(smtp)", "--mail-from", "alerts@station.test",
                                                       "--sms-url", "http://127.0.0.1:\(http)/sms?to={phone}&text={message}"], in: dir)
            defer { server.kill(SIGTERM); server.wait() }
            #expect(!url.isEmpty)

            // The first reading round finds the meter whose credit ran out; every channel hears of it.
            let received = sinksDir.appendingPathComponent("received.jsonl").path
            var lines: [[String: Any]] = []
            for _ in 0..<400 {
                lines = ((try? String(contentsOfFile: received, encoding: .utf8)) ?? "").split(separator: "\n").map { CommandLine.json(String($0)) }
                let channels = Set(lines.compactMap { $0["channel"] as? String })
                if channels.isSuperset(of: ["webhook", "email", "sms"]) { break }
                usleep(50_000)
            }
            let hooks = lines.filter { $0["channel"] as? String == "webhook" }
            #expect(!hooks.isEmpty && hooks.allSatisfy { $0["verified"] as? Bool == true }, "signed webhooks verified by the receiver: \(lines)")
            let cut = hooks.compactMap { $0["body"] as? [String: Any] }.first { $0["type"] as? String == "relay-open-no-credit" }
            let pan = cut?["meter"] as? String ?? ""
            #expect(!pan.isEmpty, "a relay-open-no-credit alert: \(hooks)")
            #expect(lines.contains { $0["channel"] as? String == "email" && (($0["to"] as? [String]) ?? []).contains { $0.hasSuffix("@example.com") } }, "an email to the resident")
            #expect(lines.contains { $0["channel"] as? String == "sms" && ($0["path"] as? String ?? "").contains("%2B2547") }, "an SMS to the resident's number")
            // Logs show contacts masked.
            let log = (try? String(contentsOfFile: dir.appendingPathComponent("serve.err").path, encoding: .utf8)) ?? ""
            #expect(log.contains("***@example.com") && !log.contains("resident1@example.com"), "contacts are masked in the log: \(log.suffix(800))")

            // A sale to the cut-off meter: delivered through the gateway before the answer, and the supply is back.
            let password = ((try? String(contentsOfFile: demo + "/operator.password", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
            let (_, login) = try await ServeCommandLineTests.request(url + "/api/v1/session", "POST", body: "{\"user\": \"operator\", \"password\": \"\(password)\"}")
            let token = login["token"] as? String ?? ""
            let started = Date()
            let (status, sale) = try await ServeCommandLineTests.request(url + "/api/v1/sales", "POST", body: "{\"meter\": \"\(pan)\", \"money\": \"40.00\"}",
                                                                          token: token, key: "restore-\(pan)")
            let seconds = Date().timeIntervalSince(started)
            #expect(status == 201)
            let delivery = sale["delivery"] as? [String: Any] ?? [:]
            #expect(delivery["state"] as? String == "delivered" && delivery["result"] as? String == "accept", "\(sale)")
            #expect(seconds < 2, "sale and delivery answered in \(seconds) s")
            let state = try CommandLine.run(["sim", "status", "--state", demo + "/fleet/\(pan).json", "--json"])
            #expect(CommandLine.json(state.stdout)["relay"] as? String == "closed", "the supply is back: \(state.stdout.prefix(300))")
        }
    }
}
