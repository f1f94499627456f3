import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// `stsvend serve` as a process, through a real HTTP client (URLSession): the one
    /// `listening on` line, sales over HTTP, and SIGTERM while sales are in flight — it exits 0,
    /// every sale it answered is committed, none is half there, and the log verifies.
    @Suite(.serialized)
    struct ServeCommandLineTests {
        /// A running `stsvend serve` on a demo station.
        final class Server {
            let dir: URL
            let process: ChildProcess
            let url: String
            var stdout: String { (try? String(contentsOfFile: dir.appendingPathComponent("serve.out").path, encoding: .utf8)) ?? "" }
            var stderr: String { (try? String(contentsOfFile: dir.appendingPathComponent("serve.err").path, encoding: .utf8)) ?? "" }
            var db: String { dir.appendingPathComponent("demo/station.db").path }
            var operatorPassword: String {
                ((try? String(contentsOfFile: dir.appendingPathComponent("demo/operator.password").path, encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)
            }

            init() throws {
                dir = try CommandLine.temporaryDirectory()
                let demo = try CommandLine.run(["station", "demo", "--dir", dir.appendingPathComponent("demo").path])
                #expect(demo.status == 0, "\(demo.stderr)")
                (process, url) = try CommandLine.serve(["--db", dir.appendingPathComponent("demo/station.db").path, "--listen", "127.0.0.1:0"], in: dir)
            }

            deinit { if process.isRunning { process.kill(SIGKILL); process.wait() } }
        }

        static func request(_ url: String, _ method: String, body: String? = nil, token: String? = nil, key: String? = nil) async throws -> (Int, [String: Any]) {
            var r = URLRequest(url: URL(string: url)!)
            r.httpMethod = method
            r.timeoutInterval = 30
            if let body { r.httpBody = Data(body.utf8); r.setValue("application/json", forHTTPHeaderField: "Content-Type") }
            if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            if let key { r.setValue(key, forHTTPHeaderField: "Idempotency-Key") }
            let (data, response) = try await URLSession.shared.data(for: r)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }

        @Test("serve prints one listening line; sales over HTTP; SIGTERM mid-burst exits 0 with every answered sale committed")
        func serveAndDrain() async throws {
            let s = try Server()
            #expect(s.url.range(of: #"^http://127\.0\.0\.1:[0-9]+$"#, options: .regularExpression) != nil, "listening line: \(s.stdout)")
            #expect(s.stdout == "listening on \(s.url)\n", "exactly one line on stdout")
            let (_, health) = try await Self.request(s.url + "/healthz", "GET")
            #expect(health["status"] as? String == "ok")
            let (status, login) = try await Self.request(s.url + "/api/v1/session", "POST", body: "{\"user\": \"operator\", \"password\": \"\(s.operatorPassword)\"}")
            #expect(status == 201)
            let token = login["token"] as? String ?? ""

            // A burst of sales; SIGTERM once the first is answered.
            let url = s.url
            let pid = s.process.pid
            let results = await withTaskGroup(of: (String, Int, String?).self) { group in
                for i in 0..<48 {
                    group.addTask {
                        let key = "drain-\(i)"
                        do {
                            let (code, body) = try await Self.request(url + "/api/v1/sales", "POST", body: "{\"meter\": \"600727000000000181\", \"money\": \"5.00\"}",
                                                                      token: token, key: key)
                            return (key, code, body["token"] as? String)
                        } catch { return (key, 0, nil) }
                    }
                }
                var out: [(String, Int, String?)] = []
                var signalled = false
                for await r in group {
                    out.append(r)
                    if !signalled { signalled = true; kill(pid, SIGTERM) }
                }
                return out
            }
            var exit: Int32 = -1
            for _ in 0..<200 where s.process.isRunning { usleep(50_000) }
            exit = s.process.wait()
            #expect(exit == 0, "SIGTERM drains and exits 0: \(s.stderr)")
            let answered = results.filter { $0.1 == 201 }
            #expect(!answered.isEmpty)
            // The log (exported after the stop, and verified) holds every answered sale with the token it answered.
            let log = s.dir.appendingPathComponent("log.jsonl").path
            let sup = s.dir.appendingPathComponent("demo/supervisor.password").path
            let exported = try CommandLine.run(["audit", "export", "--db", s.db, "--user", "supervisor", "--password-file", sup, "--out", log])
            #expect(exported.status == 0, "\(exported.stderr)")
            let verified = try CommandLine.run(["audit", "verify", log, "--public-key", s.db + ".pub"])
            #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
            let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            for (key, code, token) in results where code == 201 {
                let line = lines.first { $0.contains("\"request_id\":\"\(key)\"") }
                #expect(line?.contains(token ?? "-") == true, "answered sale \(key) is committed with its token")
            }
            #expect(s.stderr.contains("POST /api/v1/sales 201 user=operator from=127.0.0.1"))
            #expect(s.stderr.contains("POST /api/v1/session 201 user=operator"))
            #expect(!s.stderr.contains(s.operatorPassword) && !s.stderr.contains(token), "no password or token in the server log")
        }

        @Test("serve over TLS: an https listening line, HSTS, Secure cookies; a TLS key others can read is refused")
        func tls() throws {
            let dir = try CommandLine.temporaryDirectory()
            let demo = dir.appendingPathComponent("demo").path
            #expect(try CommandLine.run(["station", "demo", "--dir", demo]).status == 0)
            let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
            let made = try ChildProcess.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                                 "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"])
            #expect(made.0 == 0, "openssl: \(made.2)")
            chmod(key, 0o644)
            let loose = try CommandLine.run(["serve", "--db", demo + "/station.db", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
            #expect(loose.status != 0 && loose.stderr.contains("chmod 600"), "a readable TLS key is refused: \(loose.stderr)")
            chmod(key, 0o600)
            let (server, url) = try CommandLine.serve(["--db", demo + "/station.db", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key], in: dir)
            defer { server.kill(SIGTERM); server.wait() }
            #expect(url.hasPrefix("https://127.0.0.1:"), "listening line: \(url)")
            // Python's urllib as the client, trusting exactly this certificate.
            let probe = """
            import ssl, sys, urllib.request
            ctx = ssl.create_default_context(cafile=sys.argv[2]); ctx.check_hostname = False
            r = urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/login"), context=ctx)
            print(r.status, r.headers.get("Strict-Transport-Security"), r.headers.get("Set-Cookie"))
            """
            let (status, stdout, stderr) = try ChildProcess.run("/usr/bin/env", ["python3", "-c", probe, url, cert])
            #expect(status == 0, "\(stderr)")
            #expect(stdout.hasPrefix("200 max-age=31536000") && stdout.contains("Secure"), "HTTPS with HSTS and Secure cookies: \(stdout)")
        }
    }
}
