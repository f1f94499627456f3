import Foundation
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// Connected meters through the documented commands: a simulator fleet over DLMS/COSEM
    /// driven by a client no one here wrote (gurux-dlms), and the station's head-end delivering
    /// a sold token, reading the fleet and finding the new credit on the meter.
    @Suite(.serialized)
    struct ConnectedMeterCommandLineTests {
        /// A running `stsvend sim fleet run`.
        final class Fleet {
            let process: ChildProcess
            let folder: URL
            init(_ folder: URL, historyDays: Int = 1) throws {
                self.folder = folder
                let out = folder.appendingPathComponent("run.out").path
                process = try ChildProcess(CommandLine.binary, ["sim", "fleet", "run", "--folder", folder.path, "--history-days", "\(historyDays)", "--tick", "2"],
                                           stdout: out, stderr: folder.appendingPathComponent("run.err").path)
                for _ in 0..<600 {
                    if ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").hasPrefix("dlms fleet listening: ") { return }
                    usleep(50_000)
                }
                Issue.record("the fleet never said it was listening: \((try? String(contentsOfFile: folder.appendingPathComponent("run.err").path, encoding: .utf8)) ?? "")")
            }
            /// (pan, port, keys file) of each meter, from fleet.json as `run` wrote it.
            var meters: [(pan: String, port: Int, keys: String)] {
                let m = (try? JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("fleet.json")))) as? [String: Any]
                return ((m?["meters"] as? [[String: Any]]) ?? []).map {
                    ($0["pan"] as? String ?? "", $0["port"] as? Int ?? 0, folder.appendingPathComponent($0["keys"] as? String ?? "").path)
                }
            }
            deinit { process.kill(SIGTERM); process.wait() }
        }

        static let demoKey = "0123456789ABCDEF"
        static let keyArgs = ["--sgc", "123456", "--ti", "1", "--dkga", "2", "--ea", "7"]

        static func token(pan: String, units: Int, dir: URL) throws -> String {
            let r = try CommandLine.run(["token", "credit", "--pan", pan, "--base-date", "2014", "--vending-key-file", "-", "--units", "\(units)", "--json"] + keyArgs,
                                        stdin: demoKey)
            #expect(r.status == 0, "\(r.stderr)")
            return (CommandLine.json(r.stdout)["tokens"] as? [String])?.first ?? ""
        }

        @Test("gurux-dlms (a third-party client) associates with suite 0 keys, reads, enters a token the station sold, switches the relay; it checks every GCM tag")
        func thirdPartyClient() throws {
            let dir = try CommandLine.temporaryDirectory()
            let demo = dir.appendingPathComponent("demo")
            let created = try CommandLine.run(["station", "demo", "--dir", demo.path, "--fleet", "2"])
            #expect(created.status == 0, "\(created.stderr)")
            let folder = demo.appendingPathComponent("fleet")
            let manifest = (try? JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("fleet.json")))) as? [String: Any]
            let pan = ((manifest?["meters"] as? [[String: Any]])?.first?["pan"] as? String) ?? ""
            // The station sells while the meter is offline: the token waits in its delivery, and
            // the third-party client enters it instead.
            let sale = try CommandLine.run(["sell", "--db", demo.appendingPathComponent("station.db").path, "--user", "operator",
                                            "--password-file", demo.appendingPathComponent("operator.password").path, "--meter", pan, "--money", "40", "--json"])
            #expect(sale.status == 0, "\(sale.stderr)")
            let token = (CommandLine.json(sale.stdout)["tokens"] as? [String])?.first ?? ""
            #expect((CommandLine.json(sale.stdout)["delivery"] as? [String: Any])?["state"] as? String == "pending")
            let fleet = try Fleet(folder)
            let meter = try #require(fleet.meters.first { $0.pan == pan })
            #expect(meter.port > 0)
            let script = PublicVectors.root.appendingPathComponent("Tests/DLMS/gurux_client.py").path
            let (status, out, err) = try ChildProcess.run("/usr/bin/env", ["python3", script, "--host", "127.0.0.1", "--port", "\(meter.port)",
                                                                            "--keys", meter.keys, "--token", token, "--expect-credit-increase"])
            #expect(status == 0, "gurux client: \(err)\n\(out.prefix(4000))")
            let report = CommandLine.json(out)
            #expect(report["ok"] as? Bool == true)
            let steps = report["steps"] as? [String: Any] ?? [:]
            let readings = steps["4_readings"] as? [String: Any] ?? [:]
            // A week of history drawn: the energy register moved.
            #expect((readings["energy_Wh"] as? Int ?? 0) > 0, "\(readings)")
            let profiles = (steps["7_profiles"] as? [String: Any])?["load_profile"] as? [String: Any] ?? [:]
            #expect((profiles["entries"] as? Int ?? 0) >= 96 * 7, "a week of quarter hours: \(profiles)")
            #expect((profiles["blocks"] as? Int ?? 0) >= 2, "the profile needs GET block transfer")
            let state = folder.appendingPathComponent("\(pan).json").path
            let status2 = try CommandLine.run(["sim", "status", "--state", state, "--json"])
            #expect(status2.stdout.contains("accept"), "the token was applied by the meter's decoder: \(status2.stdout.prefix(400))")
            // The station's own retry now finds the token in the meter's memory: delivered, not sold again.
            sleep(3)
            let retried = try CommandLine.run(["meter", "deliver", "--db", demo.appendingPathComponent("station.db").path])
            #expect(retried.stdout.contains("delivered, accept"), "\(retried.stdout)")
        }

        @Test("the head-end: a sale to a connected meter is delivered through its token gateway, once; readings are stored; a meter that does not answer is retried")
        func headEnd() throws {
            let dir = try CommandLine.temporaryDirectory()
            let demo = dir.appendingPathComponent("demo")
            let created = try CommandLine.run(["station", "demo", "--dir", demo.path, "--fleet", "3"])
            #expect(created.status == 0, "\(created.stderr)")
            let db = demo.appendingPathComponent("station.db").path
            let opPassword = demo.appendingPathComponent("operator.password").path
            let fleet = try Fleet(demo.appendingPathComponent("fleet"), historyDays: 0)
            let meter = try #require(fleet.meters.first)
            let state = demo.appendingPathComponent("fleet/\(meter.pan).json").path
            let before = CommandLine.json(try CommandLine.run(["sim", "status", "--state", state, "--json"]).stdout)

            let sale = try CommandLine.run(["sell", "--db", db, "--user", "operator", "--password-file", opPassword, "--meter", meter.pan, "--money", "30", "--json"])
            #expect(sale.status == 0, "\(sale.stderr)")
            let token = (CommandLine.json(sale.stdout)["tokens"] as? [String])?.first ?? ""
            // The sale delivered its token through the gateway at once.
            let delivery = CommandLine.json(sale.stdout)["delivery"] as? [String: Any] ?? [:]
            #expect(delivery["state"] as? String == "delivered" && delivery["result"] as? String == "accept", "\(sale.stdout)")
            // Nothing is due any more: a second run delivers nothing (never a second token, never twice).
            #expect(try CommandLine.run(["meter", "deliver", "--db", db]).stdout.contains("nothing to deliver"))
            let after = try CommandLine.run(["sim", "status", "--state", state, "--json"])
            #expect(after.stdout.contains(token.prefix(4)) || after.stdout.contains("accept"), "\(after.stdout.prefix(600))")
            let creditBefore = ((before["credit"] as? [String: Any])?["electricity"] as? NSNumber)?.doubleValue ?? -1
            let creditAfter = ((CommandLine.json(after.stdout)["credit"] as? [String: Any])?["electricity"] as? NSNumber)?.doubleValue ?? -1
            #expect(creditAfter > creditBefore, "credit on the meter rose: \(creditBefore) → \(creditAfter)")

            let read = try CommandLine.run(["meter", "read", "--db", db, "--json"])
            #expect(read.status == 0, "\(read.stderr)")
            #expect(CommandLine.json(read.stdout)["meters"] as? Int == 3)
            #expect(CommandLine.json(read.stdout)["failed"] as? Int == 0)

            // Stop the fleet: a sale now cannot reach its meter; it stays pending with its error, and is not sold twice.
            fleet.process.kill(SIGTERM); fleet.process.wait()
            let second = try CommandLine.run(["sell", "--db", db, "--user", "operator", "--password-file", opPassword, "--meter", meter.pan, "--money", "10"])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("METER  not reached yet"), "\(second.stdout)")
            // The next attempt is due after its back-off (2 s after the first failure).
            #expect(try CommandLine.run(["meter", "deliver", "--db", db]).stdout.contains("nothing to deliver"))
            sleep(3)
            let failed = try CommandLine.run(["meter", "deliver", "--db", db])
            #expect(failed.stdout.contains("not delivered"), "\(failed.stdout)")
            #expect(try CommandLine.run(["meter", "read", "--db", db]).status == 6, "an unreachable meter is exit 6")
        }
    }
}
