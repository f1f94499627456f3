import Foundation
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// The operator console in real headless Chromium, driven by Selenium
    /// (Tests/Browser/console_test.py): log in, sell with a preview, the token, reprint, an
    /// operator refused, a supervisor's tariff change with TOTP, the report charts, a statement
    /// verified on the spot, the Chinese console, a phone-sized page. The token the browser saw is
    /// then entered into the meter simulator. Screenshots go to .build/console-screenshots/.
    @Suite(.serialized)
    struct ConsoleBrowserTests {
        static var script: String {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/console_test.py").path
        }
        static var screenshots: String {
            URL(fileURLWithPath: CommandLine.binary).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("console-screenshots").path
        }

        static var browserReady: Bool {
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
                && (try? ChildProcess.run("/usr/bin/env", ["python3", "-c", "import selenium"]).0) == 0
        }

        @Test("the console in headless Chromium: sell, token, reprint, refusals, TOTP tariff change, charts, statement, 中文")
        func console() throws {
            guard Self.browserReady else {
                if ProcessInfo.processInfo.environment["CI"] == "true" {
                    Issue.record("chromium-driver or Selenium missing: the README's test command installs them")
                }
                return
            }
            let dir = try CommandLine.temporaryDirectory()
            let demo = dir.appendingPathComponent("demo").path
            let made = try CommandLine.run(["station", "demo", "--dir", demo])
            #expect(made.status == 0, "\(made.stderr)")
            // The demo's connected meters, served over DLMS/COSEM while the server reads and delivers to them.
            let fleet = try ChildProcess(CommandLine.binary, ["sim", "fleet", "run", "--folder", demo + "/fleet", "--tick", "5"],
                                         stdout: dir.appendingPathComponent("fleet.out").path, stderr: dir.appendingPathComponent("fleet.err").path)
            defer { fleet.kill(SIGTERM); fleet.wait() }
            for _ in 0..<200 where !((try? String(contentsOfFile: dir.appendingPathComponent("fleet.out").path, encoding: .utf8)) ?? "").hasPrefix("dlms fleet") {
                usleep(50_000)
            }
            let (server, url) = try CommandLine.serve(["--db", demo + "/station.db", "--listen", "127.0.0.1:0", "--reading-interval", "3600"], in: dir)
            defer { server.kill(SIGTERM); server.wait() }
            #expect(!url.isEmpty, "the server started")
            let (status, stdout, stderr) = try ChildProcess.run("/usr/bin/env", ["python3", Self.script, url, demo, Self.screenshots])
            #expect(status == 0, "browser test: \(stdout) \(stderr.suffix(2_000))")
            let result = CommandLine.json(String(stdout.split(separator: "\n").last ?? ""))
            let tokens = (result["tokens"] as? [String: [String]])?["600727000000000181"] ?? []
            #expect(tokens.count == 1, "the browser saw the token: \(stdout)")

            // The token the console printed is accepted by the meter simulator (the demo key, DKGA02).
            let state = dir.appendingPathComponent("meter.state").path
            let made2 = try CommandLine.run(["sim", "init", "--state", state, "--pan", "600727000000000181", "--sgc", "123456", "--ti", "1", "--krn", "1",
                                             "--kt", "2", "--base-date", "2014", "--dkga", "2", "--ea", "7", "--vending-key-file", "-"], stdin: "0123456789ABCDEF\n")
            #expect(made2.status == 0, "\(made2.stderr)")
            for t in tokens {
                let entered = try CommandLine.run(["sim", "enter", "--state", state, t, "--json"])
                #expect(CommandLine.json(entered.stdout)["result"] as? String == "accept", "the meter accepts the console's token: \(entered.stdout)\(entered.stderr)")
            }
            // The token the browser saw delivered is in the fleet meter's memory.
            for (pan, token) in (result["delivered"] as? [String: String]) ?? [:] {
                let status = try CommandLine.run(["sim", "status", "--state", demo + "/fleet/\(pan).json"])
                #expect(status.stdout.contains("accept"), "the fleet meter applied the console's token \(token): \(status.stdout.suffix(600))")
            }
            #expect((result["delivered"] as? [String: String])?.count == 1, "a sale to a connected meter was delivered")
            for shot in ["login", "receipt", "tariffs", "reports", "reports-zh", "meter-phone", "meter-connected", "connected"] {
                #expect(FileManager.default.fileExists(atPath: Self.screenshots + "/\(shot).png"), "screenshot \(shot)")
            }
        }
    }
}
