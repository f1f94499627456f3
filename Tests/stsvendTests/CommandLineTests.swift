import Foundation
import STSTestFixtures
import Testing

/// Runs the real `stsvend` binary the way operators script it.
struct CommandLine {
    static let binary: String = {
        if let b = ProcessInfo.processInfo.environment["STSVEND_BINARY"] { return b }
        for dir in [".build/debug", ".build/release"] {
            let path = PublicVectors.root.appendingPathComponent(dir).appendingPathComponent("stsvend").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return "stsvend"
    }()

    struct Output { let status: Int32; let stdout: String; let stderr: String }

    static func run(_ args: [String], stdin: String? = nil) throws -> Output {
        let (status, out, err) = try ChildProcess.run(binary, args, input: stdin)
        return Output(status: status, stdout: out, stderr: err)
    }

    /// Starts `stsvend serve ARGS` with its output in `dir` and waits for its one
    /// `listening on URL` line; returns the process and the URL ("" when it never came).
    static func serve(_ args: [String], in dir: URL, environment: [String: String] = [:]) throws -> (process: ChildProcess, url: String) {
        let out = dir.appendingPathComponent("serve.out").path
        let p = try ChildProcess(binary, ["serve"] + args, environment: environment, stdout: out, stderr: dir.appendingPathComponent("serve.err").path)
        for _ in 0..<200 {
            if let line = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").first, line.hasPrefix("listening on ") {
                return (p, String(line.dropFirst(13)))
            }
            usleep(50_000)
        }
        return (p, "")
    }

    /// A fresh temporary folder.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stsvend-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes a file with the given POSIX mode.
    static func write(_ text: String, to url: URL, mode: Int = 0o600) throws {
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
    }

    static func json(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }
}

/// Every suite that starts processes runs one test at a time: Foundation's Process and the
/// daemons some tests start (tmux, pcscd, the virtual card) do not mix well in parallel.
@Suite(.serialized) struct CommandLineSuites {}

extension CommandLineSuites {
    @Suite(.serialized)
    struct CommandLineTests {
        let meterArgs = ["--pan", "600727000000000009", "--sgc", "123456", "--ti", "1", "--krn", "1", "--kt", "2",
                         "--base-date", "1993", "--dkga", "2", "--ea", "7"]

        @Test("batch: all public vectors through the documented interface")
        func batchPublicVectors() throws {
            let dir = try CommandLine.temporaryDirectory()
            let keys = dir.appendingPathComponent("KEYS.json")
            try CommandLine.write(String(contentsOf: PublicVectors.root.appendingPathComponent("Fixtures/batch/public-test-keys.json"), encoding: .utf8), to: keys)
            let results = dir.appendingPathComponent("results.jsonl")
            let r = try CommandLine.run(["token", "batch", "--keys", keys.path,
                                         "--in", PublicVectors.root.appendingPathComponent("Fixtures/batch/public-vectors.requests.jsonl").path,
                                         "--out", results.path])
            #expect(r.status == 0, "\(r.stderr)")
            let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: PublicVectors.root.appendingPathComponent("Fixtures/batch/public-vectors.expected.json"))) as! [String: [String: Any]]
            var got: [String: [String: Any]] = [:]
            for line in try String(contentsOf: results, encoding: .utf8).split(separator: "\n") {
                let o = CommandLine.json(String(line))
                got[o["id"] as! String] = o
            }
            #expect(got.count == expected.count)
            var matched = 0
            for (id, want) in expected {
                guard let have = got[id], have["ok"] as? Bool == true else { Issue.record("\(id): \(got[id] ?? [:])"); continue }
                if let tokens = want["tokens"] as? [String] {
                    #expect(have["tokens"] as? [String] == tokens, "\(id)")
                    if have["tokens"] as? [String] == tokens { matched += 1 }
                } else if let fields = want["decoded"] as? [String: Any] {
                    var ok = true
                    for (k, v) in fields where !(v is NSNull) {
                        let same = (have[k] as? NSNumber) == (v as? NSNumber)
                        #expect(same, "\(id) \(k): \(have[k] ?? "missing") vs \(v)")
                        ok = ok && same
                    }
                    if ok { matched += 1 }
                }
            }
            #expect(matched == 224)
        }

        @Test("batch: a bad line gets an error line, the batch goes on, exit code 2")
        func batchBadLines() throws {
            let dir = try CommandLine.temporaryDirectory()
            let keys = dir.appendingPathComponent("KEYS.json")
            try CommandLine.write("{\"k0\": \"abababababababab\"}", to: keys)
            let meter = "{\"pan\":\"600727000000000009\",\"sgc\":\"123456\",\"ti\":1,\"krn\":1,\"kt\":2,\"ken\":255,\"base_date\":1993,\"dkga\":2,\"ea\":7,\"vending_key\":\"k0\"}"
            let requests = [
                "{\"id\":\"a\",\"type\":\"credit\",\"meter\":\(meter),\"subclass\":\"electricity\",\"tid\":5871715,\"units\":1,\"rnd\":5}",
                "not json",
                "{\"id\":\"c\",\"type\":\"credit\",\"meter\":\(meter),\"subclass\":\"electricity\",\"tid\":16777216,\"units\":1}",
                "{\"id\":\"d\",\"type\":\"credit\",\"meter\":\(meter.replacingOccurrences(of: "009", with: "008")),\"subclass\":\"electricity\",\"tid\":5,\"units\":1}",
                "{\"id\":\"e\",\"type\":\"credit\",\"meter\":\(meter),\"subclass\":\"electricity\",\"tid\":6,\"units\":18201625}",
                "{\"id\":\"f\",\"type\":\"decode\",\"meter\":\(meter),\"token\":\"23716100501183194198\"}",
                "{\"id\":\"g\",\"type\":\"credit\",\"meter\":\(meter.replacingOccurrences(of: "k0", with: "nope")),\"subclass\":\"electricity\",\"tid\":5,\"units\":1}",
                "{\"id\":\"h\",\"type\":\"credit\",\"meter\":\(meter),\"subclass\":\"electricity\",\"tid\":1441,\"units\":1}",
                "{\"id\":\"i\",\"type\":\"decode\",\"meter\":\(meter),\"token\":\"2371610050118319419\"}",
                "{\"id\":\"j\",\"pad\":\"" + String(repeating: "x", count: 3 << 20) + "\"}",
                "{\"id\":\"l\",\"type\":\"credit\",\"meter\":\(meter.replacingOccurrences(of: "\"123456\"", with: "-1")),\"subclass\":\"electricity\",\"tid\":5,\"units\":1}",
                "{\"id\":\"m\",\"type\":\"key-change\",\"meter\":\(meter),\"new_meter\":\(meter),\"rollover\":\"true\"}",
                "{\"id\":\"k\",\"type\":\"decode\",\"meter\":\(meter),\"token\":\"23716100501183194197\"}",
            ]
            let input = dir.appendingPathComponent("in.jsonl")
            try CommandLine.write(requests.joined(separator: "\n") + "\n", to: input)
            let out = dir.appendingPathComponent("out.jsonl")
            let r = try CommandLine.run(["token", "batch", "--keys", keys.path, "--in", input.path, "--out", out.path])
            #expect(r.status == 2)
            let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map { CommandLine.json(String($0)) }
            #expect(lines.count == requests.count)
            #expect(lines[0]["tokens"] as? [String] == ["23716100501183194197"])
            let codes = lines.dropFirst().map { (($0["error"] as? [String: Any])?["code"] as? String) ?? "none" }
            #expect(codes == ["bad-request", "out-of-range", "bad-check-digit", "amount-out-of-range", "crc", "unknown-key", "reserved-tid", "format", "bad-request", "out-of-range", "bad-request", "none"])
            #expect(lines.last?["tid"] as? Int == 5871715, "the line after an over-long one is processed")
            #expect(lines[2]["id"] as? String == "c")
        }

        @Test("key files readable by others are refused, before anything is issued")
        func keyFilePermissions() throws {
            let dir = try CommandLine.temporaryDirectory()
            let vk = dir.appendingPathComponent("vk.hex")
            try CommandLine.write("ABABABABABABABAB\n", to: vk, mode: 0o644)
            let r = try CommandLine.run(["token", "credit"] + meterArgs + ["--vending-key-file", vk.path, "--tid", "5871715", "--units", "1"])
            #expect(r.status == 1)
            #expect(r.stderr.contains("[key-file]") && r.stderr.contains("chmod 600"))
            #expect(r.stdout.isEmpty)
            let keys = dir.appendingPathComponent("KEYS.json")
            try CommandLine.write("{\"k0\": \"abababababababab\"}", to: keys, mode: 0o640)
            let b = try CommandLine.run(["token", "batch", "--keys", keys.path, "--in", vk.path, "--out", dir.appendingPathComponent("o").path])
            #expect(b.status == 1 && b.stderr.contains("[key-file]"))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
        }

        @Test("credit, decode and key reading from standard input; keys never printed")
        func creditAndDecode() throws {
            let r = try CommandLine.run(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--issued-at", "2004-03-01T13:55:00Z", "--units", "1", "--rnd", "5", "--json"],
                                        stdin: "ABABABABABABABAB\n")
            #expect(r.status == 0, "\(r.stderr)")
            let o = CommandLine.json(r.stdout)
            #expect(o["tokens"] as? [String] == ["23716100501183194197"])
            #expect(o["tid"] as? Int == 5871715)
            let human = try CommandLine.run(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--tid", "5871715", "--units", "1", "--rnd", "5"],
                                            stdin: "ABABABABABABABAB\n")
            #expect(human.stdout.contains("2371 6100 5011 8319 4197"))
            let d = try CommandLine.run(["token", "decode", "2371 6100 5011 8319 4197"] + meterArgs + ["--vending-key-file", "-", "--json"],
                                        stdin: "ABABABABABABABAB\n")
            let f = CommandLine.json(d.stdout)
            #expect(f["class"] as? Int == 0 && f["subclass"] as? Int == 0 && f["tid"] as? Int == 5871715 && f["units"] as? Int == 1 && f["rnd"] as? Int == 5)
            #expect(f["issued_at"] as? String == "2004-03-01T13:55Z")
            for text in [r.stdout, r.stderr, human.stdout, d.stdout, d.stderr] {
                #expect(!text.uppercased().contains("ABABABAB") && !text.uppercased().contains("E653341F"))
            }
        }

        @Test("typed errors: digit count, check digit, DRN/IIN mismatch, amount, TID, expiry, class 3")
        func errors() throws {
            func refused(_ args: [String], _ code: String, stdin: String = "ABABABABABABABAB") throws {
                let r = try CommandLine.run(args, stdin: stdin)
                #expect(r.status == 1, "\(args): \(r.stderr)")
                #expect(r.stderr.contains("[\(code)]"), "\(args): \(r.stderr)")
                #expect(r.stdout.isEmpty)
            }
            var args = meterArgs
            args[1] = "60072700000000009"
            try refused(["token", "credit"] + args + ["--vending-key-file", "-", "--tid", "5", "--units", "1"], "bad-digits")
            args[1] = "600727000000000008"
            try refused(["token", "credit"] + args + ["--vending-key-file", "-", "--tid", "5", "--units", "1"], "bad-check-digit")
            try refused(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--tid", "16777216", "--units", "1"], "out-of-range")
            try refused(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--tid", "5", "--amount", "1820162.5"], "amount-out-of-range")
            try refused(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--issued-at", "2030-01-01T00:00:00Z", "--units", "1"], "tid-out-of-range")
            try refused(["token", "credit"] + meterArgs + ["--ken", "80", "--vending-key-file", "-", "--issued-at", "2004-03-01T13:55:00Z", "--units", "1"], "key-expired")
            try refused(["token", "decode", "73786976294838206463"] + meterArgs + ["--vending-key-file", "-"], "unknown-class")
            try refused(["token", "decode", "73786976294838206464"] + meterArgs + ["--vending-key-file", "-"], "format")
            // A DRN that CTSA17 says must be rejected, given as the meter number.
            try refused(["token", "credit", "--pan", "12345678904", "--sgc", "123456", "--ti", "1", "--base-date", "1993",
                         "--dkga", "2", "--ea", "7", "--vending-key-file", "-", "--tid", "5", "--units", "1"], "bad-check-digit")
            try refused(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--issued-at", "2004-03-01 13:55", "--units", "1"], "bad-timestamp")
            try refused(["token", "credit"] + meterArgs + ["--vending-key-file", "-", "--tid", "5", "--units", "1"], "key-file", stdin: "XYZ")
            try refused(["token", "credit"] + meterArgs + ["--dkga", "1", "--vending-key-file", "-", "--tid", "5", "--units", "1"], "unsupported-dkga")
            try refused(["token", "credit"] + meterArgs + ["--ea", "9", "--vending-key-file", "-", "--tid", "5", "--units", "1"], "unverified-ea")
        }

        @Test("derive-key writes a 0600 key file and prints only a check value")
        func deriveKey() throws {
            let dir = try CommandLine.temporaryDirectory()
            let out = dir.appendingPathComponent("dk.hex")
            let r = try CommandLine.run(["token", "derive-key"] + meterArgs + ["--vending-key-file", "-", "--out", out.path], stdin: "ABABABABABABABAB")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try String(contentsOf: out, encoding: .utf8) == "E653341F9D5BF36F\n")
            let mode = try FileManager.default.attributesOfItem(atPath: out.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(!r.stdout.uppercased().contains("E653341F"))
            let again = try CommandLine.run(["token", "derive-key"] + meterArgs + ["--vending-key-file", "-", "--out", out.path], stdin: "ABABABABABABABAB")
            #expect(again.status == 1, "refuses to overwrite")
            let d = try CommandLine.run(["token", "decode", "23716100501183194197", "--decoder-key-file", out.path, "--ea", "7", "--json"])
            #expect(CommandLine.json(d.stdout)["tid"] as? Int == 5871715)
        }

        @Test("key change with rollover reproduces the published set (CTSA05 step 2)")
        func keyChange() throws {
            let r = try CommandLine.run(["token", "key-change", "--pan", "600727000000000009", "--sgc", "201457", "--ti", "1", "--krn", "1",
                                         "--base-date", "2014", "--dkga", "4", "--ea", "7", "--vending-key-file", "-", "--new-sgc", "203557",
                                         "--new-ti", "2", "--new-krn", "6", "--new-base-date", "2035", "--rollover", "--json"],
                                        stdin: "ABABABABABABABAB949494949494949401234567")
            #expect(r.status == 0, "\(r.stderr)")
            let want = try JSONSerialization.jsonObject(with: Data(contentsOf: PublicVectors.root.appendingPathComponent("Fixtures/batch/public-vectors.expected.json"))) as! [String: [String: Any]]
            #expect(CommandLine.json(r.stdout)["tokens"] as? [String] == want["CS07-CTSA05-2"]?["tokens"] as? [String])
            // Decoding a key-change token shows its public attributes only: no key bits, no CRC.
            let kct = (CommandLine.json(r.stdout)["tokens"] as? [String])?.first ?? ""
            let decoded = try CommandLine.run(["token", "decode", kct, "--pan", "600727000000000009", "--sgc", "201457", "--ti", "1",
                                               "--base-date", "2014", "--dkga", "4", "--ea", "7", "--vending-key-file", "-", "--json"],
                                              stdin: "ABABABABABABABAB949494949494949401234567")
            let fields = CommandLine.json(decoded.stdout)
            #expect(fields["krn"] as? Int == 6 && fields["rollover"] as? Bool == true)
            #expect(fields["crc"] == nil && fields["data_block"] == nil)
            let noRollover = try CommandLine.run(["token", "key-change", "--pan", "600727000000000009", "--sgc", "203557", "--ti", "1",
                                                  "--base-date", "2014", "--dkga", "4", "--ea", "7", "--vending-key-file", "-",
                                                  "--new-krn", "6", "--new-base-date", "2035"], stdin: "ABABABABABABABAB949494949494949401234567")
            #expect(noRollover.status == 1 && noRollover.stderr.contains("[invalid-key-change]"))
        }

        @Test("meter test tokens need no key; demo runs; --help everywhere")
        func misc() throws {
            let t = try CommandLine.run(["token", "meter-test", "--subclass", "0", "--control", "68719476735", "--json"])
            #expect(CommandLine.json(t.stdout)["tokens"] as? [String] == ["56493153725450313471"])
            let d = try CommandLine.run(["token", "decode", "56493153725450313471", "--json"])
            #expect(CommandLine.json(d.stdout)["control"] as? Int == 68719476735)
            let demo = try CommandLine.run(["demo", "--json"])
            #expect(demo.status == 0)
            #expect((CommandLine.json(demo.stdout)["decoded"] as? [String: Any])?["units"] as? Int == 255)
            for cmd in [["--help"], ["token", "--help"], ["token", "credit", "--help"], ["token", "batch", "--help"], ["bench", "--help"],
                        ["token", "management", "--help"], ["token", "key-change", "--help"], ["token", "decode", "--help"], ["token", "derive-key", "--help"]] {
                let h = try CommandLine.run(cmd)
                #expect(h.status == 0 && h.stdout.contains("USAGE"), "\(cmd)")
            }
        }
    }
}
