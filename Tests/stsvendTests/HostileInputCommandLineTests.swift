import Crypto
import Foundation
import GRDB
import STSStation
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// What hostile and careless users do through the documented commands (issue 10): each is
    /// refused clearly, with the documented exit code, and never crashes, leaks or half-happens.
    @Suite(.serialized)
    struct HostileInputCommandLineTests {
        /// A small real station: supervisor sue, a 2014 key, a flat tariff, one meter, three sales.
        final class Station {
            let dir: URL
            var now: Int64 = 1_795_000_000
            var secret: [UInt8] = []
            let pan = "600727000000000009"
            init() throws { dir = try CommandLine.temporaryDirectory() }
            func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

            func run(_ args: [String], environment: [String: String]? = nil) throws -> CommandLine.Output {
                let (status, out, err) = try ChildProcess.run(CommandLine.binary, args, environment: environment ?? ["STSVEND_NOW": "\(now)"])
                return CommandLine.Output(status: status, stdout: out, stderr: err)
            }
            var auth: [String] { ["--db", path("s.db"), "--user", "sue", "--password-file", path("pw")] }
            func totp() -> [String] {
                now += 30
                return ["--totp", TOTP(secret: secret).code(atUnixSeconds: now)]
            }

            static func make(sales: Int = 3) throws -> Station {
                let s = try Station()
                try CommandLine.write("station password\n", to: s.dir.appendingPathComponent("pw"))
                try CommandLine.write("0123456789ABCDEF\n", to: s.dir.appendingPathComponent("k1.hex"))
                var r = try s.run(["station", "init", "--test-clock", "--db", s.path("s.db"), "--admin", "sue", "--password-file", s.path("pw"),
                                   "--totp-secret-out", s.path("sue.totp")])
                #expect(r.status == 0, "\(r.stderr)")
                s.secret = Base32.decode(try String(contentsOfFile: s.path("sue.totp"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
                r = try s.run(["key", "import"] + s.auth + s.totp() + ["--name", "k1", "--file", s.path("k1.hex"), "--krn", "1", "--dkga", "2",
                                                                        "--ea", "7", "--base-date", "2014", "--sgc", "123456", "--kt", "2", "--ti", "1"])
                #expect(r.status == 0, "\(r.stderr)")
                r = try s.run(["tariff", "set"] + s.auth + s.totp() + ["--name", "flat", "--flat", "2.00"])
                #expect(r.status == 0, "\(r.stderr)")
                r = try s.run(["meter", "add"] + s.auth + ["--pan", s.pan, "--key", "k1", "--tariff", "flat", "--customer", "Alice"])
                #expect(r.status == 0, "\(r.stderr)")
                for i in 0..<sales {
                    s.now += 60
                    r = try s.run(["sell"] + s.auth + ["--meter", s.pan, "--money", "30.00", "--request-id", "r\(i)", "--json"])
                    #expect(r.status == 0, "\(r.stderr)")
                }
                return s
            }
        }

        @Test("a receipt edited in station.db is refused at reprint and retry, not printed as genuine")
        func editedReceipt() throws {
            let s = try Station.make()
            let db = try DatabaseQueue(path: s.path("s.db"))
            try db.write { d in
                let receipt = try Data.fetchOne(d, sql: "SELECT receipt FROM sales WHERE id = 1")!
                let forged = String(decoding: receipt, as: UTF8.self).replacingOccurrences(of: #""money":"30.00""#, with: #""money":"39.00""#)
                #expect(forged != String(decoding: receipt, as: UTF8.self))
                try d.execute(sql: "UPDATE sales SET receipt = ? WHERE id = 1", arguments: [Data(forged.utf8)])
            }
            try db.close()
            var r = try s.run(["reprint"] + s.auth + ["--sale", "1", "--json"])
            #expect(r.status == 6 && !r.stdout.contains("39.00"), "\(r.stdout)")
            #expect(r.stderr.contains("does not match its signed log") && r.stderr.contains("sale 1"), "\(r.stderr)")
            r = try s.run(["sell"] + s.auth + ["--meter", s.pan, "--money", "30.00", "--request-id", "r0", "--json"])
            #expect(r.status == 6 && !r.stdout.contains("39.00"), "a retry of the edited sale is refused too: \(r.stderr)")
            // An untouched sale still reprints.
            r = try s.run(["reprint"] + s.auth + ["--sale", "2", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            // A token column edited to another token is refused too (the receipt itself untouched).
            let db2 = try DatabaseQueue(path: s.path("s.db"))
            try db2.write { d in try d.execute(sql: "UPDATE sales SET tokens = '11111111111111111111' WHERE id = 3") }
            try db2.close()
            r = try s.run(["reprint"] + s.auth + ["--sale", "3", "--json"])
            #expect(r.status == 6 && !r.stdout.contains("11111111111111111111"), "\(r.stdout) \(r.stderr)")
        }

        @Test("wrong passwords lock the name after five, the right one is then refused; a supervisor unlocks")
        func loginThrottle() throws {
            let s = try Station.make(sales: 0)
            try CommandLine.write("ada's password\n", to: s.dir.appendingPathComponent("ada.pw"))
            var r = try s.run(["station", "user-add"] + s.auth + s.totp() + ["--name", "ada", "--role", "supervisor",
                                                                           "--new-password-file", s.path("ada.pw"), "--totp-secret-out", s.path("ada.totp")])
            #expect(r.status == 0, "\(r.stderr)")
            try CommandLine.write("not the password\n", to: s.dir.appendingPathComponent("wrong"))
            let wrong = ["--db", s.path("s.db"), "--user", "sue", "--password-file", s.path("wrong")]
            for attempt in 1...6 {
                r = try s.run(["key", "list"] + wrong)
                #expect(r.status == 3, "attempt \(attempt): \(r.stderr)")
            }
            r = try s.run(["key", "list"] + s.auth)
            #expect(r.status == 3 && r.stderr.contains("too many failed logins"), "\(r.stderr)")
            // An unknown name is throttled the same way: the throttle tells nothing about which names exist.
            let ghost = ["--db", s.path("s.db"), "--user", "ghost", "--password-file", s.path("wrong")]
            for _ in 1...5 { _ = try s.run(["key", "list"] + ghost) }
            #expect(try s.run(["key", "list"] + ghost).stderr.contains("too many failed logins"))
            // The lock lifts with time…
            s.now += LoginThrottle.firstLockSeconds + 1
            r = try s.run(["key", "list"] + s.auth)
            #expect(r.status == 0, "\(r.stderr)")
            // …or when another supervisor unlocks the name.
            for _ in 1...5 { _ = try s.run(["key", "list"] + wrong) }
            #expect(try s.run(["key", "list"] + s.auth).status == 3)
            let ada = Base32.decode(try String(contentsOfFile: s.path("ada.totp"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
            s.now += 30
            r = try s.run(["station", "user-unlock", "--db", s.path("s.db"), "--user", "ada", "--password-file", s.path("ada.pw"),
                           "--totp", TOTP(secret: ada).code(atUnixSeconds: s.now), "--name", "sue"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try s.run(["key", "list"] + s.auth).status == 0)
            // Every failure, lock and unlock is in the signed log.
            r = try s.run(["audit", "export"] + s.auth + ["--out", s.path("log.jsonl")])
            let log = try String(contentsOfFile: s.path("log.jsonl"), encoding: .utf8)
            #expect(log.components(separatedBy: #""type":"login_lockout""#).count - 1 >= 3)
            #expect(log.contains(#""action":"unlock","name":"sue""#) && log.contains(#""locked":true"#))
        }

        @Test("guesses tried at the same time get five checks in all, the rest are refused as locked")
        func parallelGuesses() throws {
            let s = try Station.make(sales: 0)
            try CommandLine.write("not the password\n", to: s.dir.appendingPathComponent("wrong"))
            let wrong = ["--db", s.path("s.db"), "--user", "sue", "--password-file", s.path("wrong")]
            let guesses = try (0..<10).map { i in
                try ChildProcess(CommandLine.binary, ["key", "list"] + wrong, environment: ["STSVEND_NOW": "\(s.now)"], stderr: s.path("guess\(i).err"))
            }
            for g in guesses { _ = g.wait() }
            let locked = try (0..<10).filter { try String(contentsOfFile: s.path("guess\($0).err"), encoding: .utf8).contains("too many failed logins") }
            #expect(locked.count == 5, "each attempt is counted before its password is checked: only five reach the check")
            let r = try s.run(["key", "list"] + s.auth)
            #expect(r.status == 3 && r.stderr.contains("too many failed logins"), "\(r.stderr)")
        }

        @Test("report CSV: one rectangular table, people's text quoted and never a formula")
        func reportCSV() throws {
            let s = try Station.make(sales: 1)
            s.now += 60
            var r = try s.run(["sell"] + s.auth + ["--meter", s.pan, "--money", "10.00", "--channel", "=cmd|x,evil\"\nrow", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let day = String(AuditTimeText.day(s.now))
            r = try s.run(["report"] + s.auth + ["--from", day, "--to", day, "--csv"])
            #expect(r.status == 0, "\(r.stderr)")
            let rows = CSVReader.rows(r.stdout)
            #expect(Set(rows.map(\.count)).count == 1 && rows.count > 2, "\(rows)")
            let cells = rows.flatMap { $0 }
            #expect(!cells.contains { $0.hasPrefix("=") || $0.hasPrefix("+") || $0.hasPrefix("@") }, "\(cells)")
            #expect(cells.contains("'=cmd|x,evil\"\nrow"), "the channel survives, neutralised: \(cells)")
        }

        @Test("an export that cannot be written leaves no file and records no export")
        func exportOnFullDisk() throws {
            let s = try Station.make(sales: 8)
            let full = s.path("full")
            try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            let mount = try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4k", "tmpfs", full])
            #expect(mount.0 == 0, "a 4 KiB tmpfs stands in for a full disk (the tests run as root): \(mount.2)")
            defer { _ = try? ChildProcess.run("/bin/umount", [full]) }
            var r = try s.run(["audit", "export"] + s.auth + ["--out", full + "/log.jsonl"])
            #expect(r.status == 6 && r.stderr.contains("No space left on device"), "\(r.status) \(r.stderr)")
            #expect(!r.stderr.lowercased().contains("grdb") && !r.stderr.contains("PRAGMA"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: full).isEmpty, "no file, no partial file")
            r = try s.run(["audit", "export"] + s.auth + ["--out", s.path("log.jsonl")])
            #expect(r.status == 0, "\(r.stderr)")
            let log = try String(contentsOfFile: s.path("log.jsonl"), encoding: .utf8)
            #expect(log.components(separatedBy: #""type":"export""#).count - 1 == 1, "the failed export was never recorded")
            r = try s.run(["audit", "verify", s.path("log.jsonl"), "--public-key", s.path("s.db.pub")])
            #expect(r.status == 0, "\(r.stdout)")
        }

        @Test("station init is all or nothing; a station that keeps real time refuses STSVEND_NOW")
        func initAndClock() throws {
            let s = try Station()
            try CommandLine.write("station password\n", to: s.dir.appendingPathComponent("pw"))
            var r = try s.run(["station", "init", "--db", s.path("half.db"), "--admin", "sue", "--password-file", s.path("pw"),
                               "--totp-secret-out", s.path("no/dir/t")], environment: [:])
            #expect(r.status != 0 && r.stderr.contains("no/dir/t"), "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: s.dir.path).filter { $0.hasPrefix("half.db") } == [])
            r = try s.run(["station", "init", "--db", s.path("half.db"), "--admin", "sue", "--password-file", s.path("pw"),
                           "--totp-secret-out", s.path("t")], environment: [:])
            #expect(r.status == 0, "a retry simply works: \(r.stderr)")
            r = try s.run(["key", "list", "--db", s.path("half.db"), "--user", "sue", "--password-file", s.path("pw")],
                          environment: ["STSVEND_NOW": "1795000000"])
            #expect(r.status == 5 && r.stderr.contains("--test-clock"), "\(r.stderr)")
            r = try s.run(["station", "init", "--db", s.path("other.db"), "--admin", "sue", "--password-file", s.path("pw"),
                           "--totp-secret-out", s.path("t2")], environment: ["STSVEND_NOW": "1795000000"])
            #expect(r.status == 5 && !FileManager.default.fileExists(atPath: s.path("other.db")), "\(r.stderr)")
            r = try s.run(["station", "init", "--test-clock", "--db", s.path("t.db"), "--admin", "sue", "--password-file", s.path("pw"),
                           "--totp-secret-out", s.path("t3")], environment: ["STSVEND_NOW": "1795000000"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try String(contentsOfFile: s.path("t.db.pub"), encoding: .utf8).hasPrefix("stsvend-station-ed25519"))
        }

        @Test("the meter's clock at its limits and a state file with huge counters: refused or saturated, never a trap")
        func meterLimits() throws {
            let s = try Station()
            try CommandLine.write("ABABABABABABABAB949494949494949401234567\n", to: s.dir.appendingPathComponent("vk.hex"))
            let state = s.path("m.state")
            var r = try s.run(["meter", "init", "--state", state, "--pan", "600727000000000009", "--sgc", "201457", "--ti", "1", "--krn", "1",
                               "--kt", "2", "--ken", "255", "--base-date", "2014", "--dkga", "4", "--ea", "7", "--vending-key-file", s.path("vk.hex")],
                              environment: [:])
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["meter", "enter", "--state", state, "12345678901234567890"], environment: ["STSVEND_NOW": "9223372036854775807"])
            #expect(r.status == 64 && r.stderr.contains("STSVEND_NOW must be"), "\(r.status) \(r.stderr)")
            for _ in 0..<6 {
                r = try s.run(["meter", "enter", "--state", state, "12345678901234567890", "--json"], environment: ["STSVEND_NOW": "253402300799"])
                #expect(r.status == 0, "the last second of year 9999 is a valid clock: \(r.status) \(r.stderr)")
            }
            #expect((CommandLine.json(r.stdout)["locked_until"] as? String)?.hasPrefix("10000-01-01T00:0") == true, "locked past the clock's end: \(r.stdout)")
            // A state file whose counter was made huge and re-sealed with a fresh checksum.
            let text = try String(contentsOfFile: state, encoding: .utf8)
            let body = String(text[..<text.range(of: "\nsha256:", options: .backwards)!.lowerBound])
            let forged = body.replacing(#/"wrongEntries" ?: ?\d+/#, with: #""wrongEntries" : 9223372036854775807"#)
            #expect(forged != body)
            let digest = SHA256.hash(data: Data(forged.utf8)).map { String(format: "%02x", $0) }.joined()
            try CommandLine.write(forged + "\nsha256:" + digest + "\n", to: URL(fileURLWithPath: state))
            r = try s.run(["meter", "enter", "--state", state, "12345678901234567890"], environment: ["STSVEND_NOW": "1795000000"])
            #expect(r.status == 1 && r.stderr.contains("invalid lockout counters"), "\(r.status) \(r.stderr)")
        }

        @Test("every file the station, meter and batch commands write that holds a key, token, password hash or secret is 0600 under umask 022")
        func fileModes() throws {
            let old = umask(0o022)
            defer { umask(old) }
            let s = try Station.make(sales: 1)
            try CommandLine.write("FEDCBA9876543210\n", to: s.dir.appendingPathComponent("k2.hex"))
            try CommandLine.write("ada's password\n", to: s.dir.appendingPathComponent("ada.pw"))
            var r = try s.run(["station", "user-add"] + s.auth + s.totp() + ["--name", "ada", "--role", "operator",
                                                                           "--new-password-file", s.path("ada.pw"), "--totp-secret-out", s.path("ada.totp")])
            #expect(r.status == 0, "\(r.stderr)")
            try "meter,money\n\(s.pan),5.00\n".write(toFile: s.path("in.csv"), atomically: false, encoding: .utf8)
            r = try s.run(["sell-batch"] + s.auth + ["--csv", s.path("in.csv"), "--out", s.path("results.csv")])
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["key", "import"] + s.auth + s.totp() + ["--name", "k2", "--file", s.path("k2.hex"), "--krn", "2", "--dkga", "2",
                                                                    "--ea", "7", "--base-date", "2014", "--sgc", "123456", "--kt", "2", "--ti", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["campaign", "start"] + s.auth + s.totp() + ["--name", "c", "--from-key", "k1", "--to-key", "k2"])
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["campaign", "run"] + s.auth + ["--name", "c", "--out", s.path("sets.jsonl")])
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["audit", "export"] + s.auth + ["--out", s.path("log.jsonl")])
            #expect(r.status == 0, "\(r.stderr)")
            // The meter simulator, batch vending and key derivation.
            try CommandLine.write("ABABABABABABABAB\n", to: s.dir.appendingPathComponent("vk.hex"))
            let meterArgs = ["--pan", s.pan, "--sgc", "123456", "--ti", "1", "--krn", "1", "--kt", "2", "--base-date", "2014", "--dkga", "2", "--ea", "7"]
            r = try s.run(["meter", "init", "--state", s.path("m.state")] + meterArgs + ["--vending-key-file", s.path("vk.hex")], environment: [:])
            #expect(r.status == 0, "\(r.stderr)")
            r = try s.run(["meter", "enter", "--state", s.path("m.state"), "12345678901234567890"], environment: [:])
            r = try s.run(["token", "derive-key"] + meterArgs + ["--vending-key-file", s.path("vk.hex"), "--out", s.path("dk.hex")], environment: [:])
            #expect(r.status == 0, "\(r.stderr)")
            try CommandLine.write(#"{"k0":"ABABABABABABABAB"}"#, to: s.dir.appendingPathComponent("keys.json"))
            try #"{"id":1,"type":"credit","meter":{"pan":"600727000000000009","sgc":"123456","ti":1,"krn":1,"kt":2,"base_date":2014,"dkga":2,"ea":7,"vending_key":"k0"},"subclass":"electricity","tid":5000,"units":10}"#
                .write(toFile: s.path("requests.jsonl"), atomically: false, encoding: .utf8)
            r = try s.run(["token", "batch", "--keys", s.path("keys.json"), "--in", s.path("requests.jsonl"), "--out", s.path("results.jsonl")], environment: [:])
            #expect(r.status == 0, "\(r.stderr)")
            let secret = ["s.db", "s.db-wal", "s.db-shm", "s.db.kek", "sue.totp", "ada.totp", "results.csv", "sets.jsonl", "log.jsonl",
                          "m.state", "m.state.lock", "dk.hex", "results.jsonl"]
            for name in secret {
                let path = s.path(name)
                guard FileManager.default.fileExists(atPath: path) else {
                    // -wal and -shm exist only while SQLite keeps them; everything else must be there.
                    #expect(name.hasSuffix("-wal") || name.hasSuffix("-shm"), "\(name) was not written")
                    continue
                }
                let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0o777
                #expect(mode & 0o077 == 0, "\(name) is \(String(mode, radix: 8))")
            }
            // Nothing else the commands wrote is readable by others, apart from the public key and our own inputs.
            let inputs: Set<String> = ["in.csv", "requests.jsonl", "s.db.pub"]
            for name in try FileManager.default.contentsOfDirectory(atPath: s.dir.path) where !inputs.contains(name) {
                let mode = (try FileManager.default.attributesOfItem(atPath: s.path(name))[.posixPermissions] as? Int) ?? 0
                #expect(mode & 0o077 == 0, "\(name) is \(String(mode, radix: 8))")
            }
        }

        @Test("a key whose TIDs ran out is imported with a warning and shown as dead in key list; one KRN rule in the help")
        func deadKeyAndKRN() throws {
            let s = try Station.make(sales: 0)
            try CommandLine.write("ABABABABABABABAB\n", to: s.dir.appendingPathComponent("old.hex"))
            var r = try s.run(["key", "import"] + s.auth + s.totp() + ["--name", "old", "--file", s.path("old.hex"), "--krn", "1", "--dkga", "2",
                                                                        "--ea", "7", "--base-date", "1993", "--sgc", "123456", "--kt", "2", "--ti", "1"])
            #expect(r.status == 0 && r.stderr.contains("warning: vending key old can no longer issue tokens")
                    && r.stderr.contains("2024-11-24") && r.stderr.contains("campaign"), "\(r.stderr)")
            r = try s.run(["key", "list"] + s.auth)
            #expect(r.stdout.contains("WARNING: vending key old can no longer issue tokens") && !r.stdout.contains("WARNING: vending key k1"), "\(r.stdout)")
            #expect(r.stdout.contains("k1\t") && r.stdout.contains("issues tokens until 2045-"), "a 2014 key runs until its TIDs end in 2045: \(r.stdout)")
            for command in [["key", "import"], ["meter", "init"]] {
                let help = try s.run(command + ["--help"], environment: [:]).stdout
                #expect(help.contains("1–15 (1–9 with DKGA04"), "\(command): \(help)")
            }
        }

        @Test("every error is one line in the user's words with the documented exit code")
        func messages() throws {
            let s = try Station.make(sales: 1)
            func refused(_ args: [String], _ code: Int32, _ words: String, environment: [String: String]? = nil) throws {
                let r = try s.run(args, environment: environment)
                #expect(r.status == code && r.stderr.contains(words), "\(args): \(r.status) \(r.stderr)")
                #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("SQLite error") && !r.stderr.contains("grdb"), "\(r.stderr)")
            }
            try refused(["sell"] + s.auth + ["--meter", s.pan, "--money", "0"], 64, "more than 0.00")
            try refused(["sell"] + s.auth + ["--meter", s.pan, "--money", "-5"], 64, "--money must be an amount")
            try refused(["sell"] + s.auth + ["--meter", s.pan, "--money", "100,00"], 64, "no sign or comma")
            try refused(["sell"] + s.auth + ["--meter", s.pan, "--units", "0.04"], 64, "below the smallest amount")
            try refused(["sell"] + s.auth + ["--meter", s.pan, "--money", "1", "--units", "1"], 64, "See 'stsvend sell --help'")
            try refused(["reprint", "--db", s.path("s.db"), "--user", "sue", "--password-file", s.path("missing"), "--sale", "1"], 64,
                        "cannot open password file")
            try refused(["audit", "verify", s.path("s.db"), "--public-key", s.path("missing.pub")], 64, "cannot read \(s.path("missing.pub")): No such file")
            // A read-only database (a read-only file system: root ignores file modes): the
            // operator hears what to check, not SQL.
            let ro = s.path("ro")
            try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
            #expect(try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", ro]).0 == 0)
            defer { _ = try? ChildProcess.run("/bin/umount", [ro]) }
            for f in ["s.db", "s.db-wal", "s.db-shm", "s.db.kek", "pw"] where FileManager.default.fileExists(atPath: s.path(f)) {
                try FileManager.default.copyItem(atPath: s.path(f), toPath: ro + "/" + f)
            }
            #expect(try ChildProcess.run("/bin/mount", ["-o", "remount,ro", ro]).0 == 0)
            let r = try s.run(["sell", "--db", ro + "/s.db", "--user", "sue", "--password-file", ro + "/pw", "--meter", s.pan, "--money", "5.00"])
            #expect(r.status == 6 && r.stderr.contains("read-only") && !r.stderr.contains("INSERT") && !r.stderr.contains("SQLite error"),
                    "\(r.status) \(r.stderr)")
        }
    }
}

/// The UTC day (YYYY-MM-DD) of a Unix time, for report ranges.
enum AuditTimeText {
    static func day(_ t: Int64) -> Substring {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t))).prefix(10)
    }
}

/// A strict RFC 4180 reader, for checking what the report writes.
enum CSVReader {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], cell = ""
        var quoted = false, atStart = true
        var it = Array(text.unicodeScalars)[...]
        while let c = it.popFirst() {
            if quoted {
                if c == "\"" {
                    if it.first == "\"" { cell.unicodeScalars.append("\""); it.removeFirst() } else { quoted = false }
                } else { cell.unicodeScalars.append(c) }
            } else if c == "\"" && atStart {
                quoted = true
            } else if c == "," {
                row.append(cell); cell = ""; atStart = true; continue
            } else if c == "\n" {
                row.append(cell); rows.append(row); row = []; cell = ""; atStart = true; continue
            } else {
                cell.unicodeScalars.append(c)
            }
            atStart = false
        }
        if !cell.isEmpty || !row.isEmpty { row.append(cell); rows.append(row) }
        return rows
    }
}
