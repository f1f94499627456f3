import AsyncHTTPClient
import Foundation
import NIOCore
import STSStation
import STSTariff
import STSTestFixtures
import STSTokenFormat
import STSVending
import STSMeter
import STSCrypto
import Testing

/// A utility on PostgreSQL: one database (a real PostgreSQL 15 the tests start), several
/// `stsvend serve` processes (stations) selling to the same meters, a real HTTP client.
final class Utility: @unchecked Sendable {
    static let keyHex = "0123456789ABCDEF"
    let server: PostgresServer
    let dir: URL
    let url: String
    let kek: String
    let operatorPassword = "operator-pass-1"
    let stationNames: [String]
    let meters: [MeterPAN]
    private(set) var servers: [String: (process: ChildProcess, url: String)] = [:]

    static func attributes() throws -> VendingKeyAttributes {
        VendingKeyAttributes(derivation: .dkga02, encryption: .sta, baseDate: try BaseDate(year: 2014), supplyGroup: try SupplyGroupCode("123456"),
                             revision: try KeyRevisionNumber(1), keyType: try KeyType(2), tariffIndex: try TariffIndex(1), expiry: try KeyExpiryNumber(255))
    }

    /// 11-digit meter numbers with their Luhn check digit.
    static func meterNumber(_ i: Int) throws -> MeterPAN {
        let body = String(format: "5%09d", i)
        let digits = body.utf8.map { $0 - 48 }
        return try MeterPAN(meterNumber: body + String(Luhn.checkDigit(for: digits)))
    }

    /// Creates the utility: the first station with `station init` (the command line), then its
    /// key, tariff, operator, meters and further stations through the library on the same database.
    init(server: PostgresServer, stations: Int, meters count: Int) throws {
        self.server = server
        dir = try CommandLine.temporaryDirectory()
        url = try server.newDatabase("utility")
        kek = dir.appendingPathComponent("utility.kek").path
        stationNames = (0..<stations).map { "s\($0 + 1)" }
        meters = try (0..<count).map(Self.meterNumber)
        try CommandLine.write("correct horse battery\n", to: dir.appendingPathComponent("sue.password"))
        try CommandLine.write(operatorPassword + "\n", to: dir.appendingPathComponent("operator.password"))
        let made = try CommandLine.run(["station", "init", "--db", url, "--db-password-file", server.passwordFile, "--kek-file", kek,
                                        "--admin", "sue", "--password-file", dir.appendingPathComponent("sue.password").path,
                                        "--totp-secret-out", dir.appendingPathComponent("sue.totp").path, "--name", stationNames[0],
                                        "--public-key-out", dir.appendingPathComponent("\(stationNames[0]).pub").path, "--test-clock", "--json"])
        guard made.status == 0 else { throw PostgresServerError("station init failed: \(made.stderr)") }
        let station = try Station.open(path: url, kekPath: kek, passwordFile: server.passwordFile)
        defer { station.close() }
        // Supervisor actions each take a fresh second-factor step: a clock in the recent past, 30 s per action.
        let secret = try Self.base32(String(contentsOf: dir.appendingPathComponent("sue.totp"), encoding: .utf8))
        let box = ClockBox(Int64(Date().timeIntervalSince1970) - 900)
        station.now = { box.value }
        func supervisor() throws -> Actor {
            box.value += 30
            return try station.authenticate(user: "sue", password: Array("correct horse battery".utf8),
                                            totp: TOTP(secret: secret).code(atUnixSeconds: box.value), action: "test")
        }
        _ = try station.importKey(name: "k1", bytes: Self.hexBytes(Self.keyHex), attributes: Self.attributes(), by: supervisor())
        _ = try station.setTariff(Tariff(name: "flat", blocks: [TariffBlock(upToTenths: nil, price: EnergyPrice("1.00"))]), by: supervisor())
        _ = try station.addUser(name: "olly", role: .operator, password: Array(operatorPassword.utf8), by: supervisor(), passwordCost: 10)
        let olly = try station.authenticate(user: "olly", password: Array(operatorPassword.utf8), action: "test")
        for (i, pan) in meters.enumerated() {
            _ = try station.addMeter(MeterRegistration(pan: pan, keyName: "k1", tariff: "flat", customer: "Customer \(i)"), by: olly)
        }
        for name in stationNames.dropFirst() {
            _ = try station.addStation(name: name, publicKeyOut: dir.appendingPathComponent("\(name).pub").path, by: supervisor())
        }
    }

    deinit {
        for (_, s) in servers where s.process.isRunning { s.process.kill(SIGKILL); s.process.wait() }
        // STSVEND_TEST_KEEP=1 keeps the servers' logs to look at a failure.
        if ProcessInfo.processInfo.environment["STSVEND_TEST_KEEP"] == nil { try? FileManager.default.removeItem(at: dir) }
    }

    /// Starts `stsvend serve --db URL --station NAME`; returns its URL.
    @discardableResult
    func serve(_ name: String) throws -> String {
        let folder = dir.appendingPathComponent("serve-\(name)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (p, u) = try CommandLine.serve(["--db", url, "--db-password-file", server.passwordFile, "--kek-file", kek, "--station", name,
                                            "--listen", "127.0.0.1:0"], in: folder)
        guard !u.isEmpty else { throw PostgresServerError("serve \(name) did not start: \((try? String(contentsOf: folder.appendingPathComponent("serve.err"), encoding: .utf8)) ?? "")") }
        servers[name] = (p, u)
        return u
    }

    func stop(_ name: String, signal: Int32 = SIGTERM) {
        guard let s = servers[name] else { return }
        s.process.kill(signal)
        s.process.wait()
    }

    /// Starts every station's server and logs the operator in at each: (URL, token) per station.
    func serveAll() async throws -> (bases: [String], tokens: [String]) {
        var bases: [String] = [], tokens: [String] = []
        for name in stationNames {
            let base = try serve(name)
            bases.append(base)
            tokens.append(try await login(base))
        }
        return (bases, tokens)
    }

    /// An operator's bearer token at one server.
    func login(_ base: String) async throws -> String {
        let (status, body) = try await HTTP.request(base + "/api/v1/session", "POST", body: #"{"user": "olly", "password": "\#(operatorPassword)"}"#)
        guard status == 201, let token = body["token"] as? String else { throw PostgresServerError("login failed: \(status) \(body)") }
        return token
    }

    /// Exports every chain (`audit export --all-stations`) and verifies the folder (`audit verify DIR`).
    func exportAndVerify() throws -> (export: CommandLine.Output, verify: CommandLine.Output) {
        let out = dir.appendingPathComponent("audit-\(UUID().uuidString.prefix(6))").path
        let export = try CommandLine.run(["audit", "export", "--db", url, "--db-password-file", server.passwordFile, "--kek-file", kek,
                                          "--user", "sue", "--password-file", dir.appendingPathComponent("sue.password").path,
                                          "--all-stations", "--out", out, "--json"])
        let verify = try CommandLine.run(["audit", "verify", out, "--json"])
        return (export, verify)
    }

    /// The decoder a meter holds (the station's key, derived the meter's way).
    func decoder(_ pan: MeterPAN) throws -> MeterDecoder {
        let profile = try Self.attributes().meter(pan)
        return MeterDecoder(state: try MeterState(keyParameters: profile.keyParameters, expiry: profile.expiry, vendingKey: try VendingKey(hex: Self.keyHex)))
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let a = it.next(), let b = it.next() { out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16) ?? 0) }
        return out
    }

    static func base32(_ text: String) throws -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0, value = 0
        var out: [UInt8] = []
        for ch in text.uppercased() where ch != "=" && !ch.isWhitespace {
            guard let i = alphabet.firstIndex(of: ch) else { throw PostgresServerError("not base32") }
            value = (value << 5) | i
            bits += 5
            if bits >= 8 { bits -= 8; out.append(UInt8((value >> bits) & 0xFF)) }
        }
        return out
    }
}

final class ClockBox: @unchecked Sendable {
    var value: Int64
    init(_ v: Int64) { value = v }
}

/// One sale as the client saw it.
struct ClientSale: Sendable {
    let key: String
    let meter: String
    var status = 0
    var token: String?
    var tid: Int64?
    var attempts = 0
    /// What the first failed attempt got (a status or an error), for the test's message.
    var firstFailure: String?
}

/// A real HTTP client (AsyncHTTPClient: keep-alive connections, honest timeouts).
enum HTTP {
    static let client: HTTPClient = {
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()

    static func request(_ url: String, _ method: String, body: String? = nil, token: String? = nil, key: String? = nil,
                        timeout: Int64 = 30) async throws -> (Int, [String: Any]) {
        var r = HTTPClientRequest(url: url)
        r.method = .init(rawValue: method)
        if let body { r.body = .bytes(ByteBuffer(string: body)); r.headers.add(name: "Content-Type", value: "application/json") }
        if let token { r.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let key { r.headers.add(name: "Idempotency-Key", value: key) }
        let response = try await client.execute(r, timeout: .seconds(timeout))
        let data = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: data))) as? [String: Any] ?? [:])
    }

    /// Sells until the station answers 201 (a 503 or a lost connection is retried with the same
    /// idempotency key, as the protocol asks); gives up after `attempts`.
    static func sell(_ base: @Sendable () -> String, token: @Sendable () -> String, meter: String, key: String, attempts: Int = 200) async -> ClientSale {
        var sale = ClientSale(key: key, meter: meter)
        while sale.attempts < attempts {
            sale.attempts += 1
            do {
                let (code, body) = try await request(base() + "/api/v1/sales", "POST", body: #"{"meter": "\#(meter)", "money": "5.00"}"#,
                                                     token: token(), key: key, timeout: 20)
                sale.status = code
                // 201 sold now; 200 the sale an earlier attempt committed (its answer was lost).
                if code == 201 || code == 200 {
                    sale.token = body["token"] as? String
                    sale.tid = (body["tid"] as? NSNumber)?.int64Value
                    return sale
                }
                if sale.firstFailure == nil { sale.firstFailure = "\(code) \(body)" }
                if code != 503 && code != 401 { return sale }
            } catch {
                sale.status = 0
                if sale.firstFailure == nil { sale.firstFailure = "\(error)" }
            }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        return sale
    }
}

/// Runs `jobs` with at most `width` at a time.
func runConcurrently<T: Sendable>(_ jobs: [@Sendable () async -> T], width: Int) async -> [T] {
    await withTaskGroup(of: (Int, T).self) { group in
        var next = 0
        var out = [T?](repeating: nil, count: jobs.count)
        while next < min(width, jobs.count) {
            let i = next
            group.addTask { (i, await jobs[i]()) }
            next += 1
        }
        for await (i, r) in group {
            out[i] = r
            if next < jobs.count {
                let j = next
                group.addTask { (j, await jobs[j]()) }
                next += 1
            }
        }
        return out.compactMap { $0 }
    }
}

extension CommandLineSuites {
    /// Many stations, one PostgreSQL database (Specs/station.md, "Many stations").
    @Suite(.serialized)
    struct MultiStationCommandLineTests {
        /// Every meter's tokens, in TID order, are accepted by its decoder exactly once.
        static func checkMeters(_ utility: Utility, _ sales: [ClientSale]) throws {
            let byMeter = Dictionary(grouping: sales.filter { $0.token != nil }, by: \.meter)
            for (meter, list) in byMeter {
                let pan = try MeterPAN(meter)
                var decoder = try utility.decoder(pan)
                let now = Int64(Date().timeIntervalSince1970)
                for s in list.sorted(by: { ($0.tid ?? 0) < ($1.tid ?? 0) }) {
                    let outcome = decoder.enter(s.token ?? "", at: now)
                    #expect(outcome.result.isAccepted, "meter \(meter) refused its token of TID \(s.tid ?? -1): \(outcome.result)")
                    #expect(!decoder.enter(s.token ?? "", at: now).result.isAccepted, "meter \(meter) took a token twice")
                }
            }
        }

        @Test("4 stations × 500 concurrent sales to 50 shared meters: no TID twice, every token accepted in TID order, every chain and the union verify")
        func fourStationsShareMeters() async throws {
            guard let server = PostgresServer.shared else { throw PostgresServerError.unavailable }
            let utility = try Utility(server: server, stations: 4, meters: 50)
            let (bases, tokens) = try await utility.serveAll()
            let meters = utility.meters.map(\.description)
            let jobs: [@Sendable () async -> ClientSale] = (0..<2_000).map { i in
                let base = bases[i % 4], token = tokens[i % 4], meter = meters[i % 50]
                return { await HTTP.sell({ base }, token: { token }, meter: meter, key: "multi-\(i)") }
            }
            let sales = await runConcurrently(jobs, width: 64)
            #expect(sales.count == 2_000 && sales.allSatisfy { ($0.status == 201 || $0.status == 200) && $0.token != nil },
                    "not sold: \(sales.filter { $0.token == nil }.prefix(5).map { "\($0.key) \($0.status): \($0.firstFailure ?? "")" })")
            // Retries are the protocol (a lost answer is asked again with its key); how many there are
            // depends on the machine (a disk that stalls PostgreSQL's fsync for 20 s makes every
            // client in flight time out), so it is not asserted: only that each key sold once.
            let pairs = sales.compactMap { s in s.tid.map { "\(s.meter)/\($0)" } }
            #expect(Set(pairs).count == pairs.count, "a meter got the same TID twice")
            #expect(Set(sales.compactMap(\.token)).count == sales.count)
            try Self.checkMeters(utility, sales)
            // A retry with the same key, at another station, returns the same token.
            let (code, again) = try await HTTP.request(bases[1] + "/api/v1/sales", "POST", body: #"{"meter": "\#(meters[0])", "money": "5.00"}"#,
                                                       token: tokens[1], key: "multi-0")
            #expect(code == 200 || code == 201)
            #expect(again["token"] as? String == sales[0].token && again["replayed"] as? Bool == true)
            for name in utility.stationNames { utility.stop(name) }
            let (export, verify) = try utility.exportAndVerify()
            #expect(export.status == 0, "\(export.stderr)")
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let report = CommandLine.json(verify.stdout)
            #expect(report["clean"] as? Bool == true && report["stations"] as? Int == 4 && report["sales"] as? Int == 2_000, "\(verify.stdout)")
        }

        @Test("PostgreSQL restarted during concurrent sales: each sale is committed once or refused with 503, retries never sell twice, the chains verify")
        func databaseRestartedMidLoad() async throws {
            let server = try PostgresServer()
            defer { server.destroy() }
            let utility = try Utility(server: server, stations: 2, meters: 10)
            let (bases, tokens) = try await utility.serveAll()
            let meters = utility.meters.map(\.description)
            let refusals = Counter()
            let jobs: [@Sendable () async -> ClientSale] = (0..<400).map { i in
                let base = bases[i % 2], token = tokens[i % 2], meter = meters[i % 10]
                return {
                    let s = await HTTP.sell({ base }, token: { token }, meter: meter, key: "restart-\(i)")
                    if s.attempts > 1 { refusals.add() }
                    return s
                }
            }
            // On a thread of its own: pg_ctl blocks, and the test's async threads serve the clients.
            let restarted = DispatchSemaphore(value: 0)
            let restartError = Locked<String?>(nil)
            Thread.detachNewThread {
                usleep(700_000)
                do { try server.stop(mode: "fast"); usleep(1_000_000); try server.start() } catch { restartError.set("\(error)") }
                restarted.signal()
            }
            let sales = await runConcurrently(jobs, width: 32)
            restarted.wait()
            #expect(restartError.get() == nil, "\(restartError.get() ?? "")")
            #expect(sales.allSatisfy { ($0.status == 201 || $0.status == 200) && $0.token != nil }, "\(sales.filter { $0.status != 201 }.prefix(5).map { "\($0.key) \($0.status)" })")
            #expect(refusals.value > 0, "the restart refused no sale: it came too late to test anything")
            let pairs = sales.compactMap { s in s.tid.map { "\(s.meter)/\($0)" } }
            #expect(Set(pairs).count == pairs.count)
            try Self.checkMeters(utility, sales)
            for name in utility.stationNames { utility.stop(name) }
            let (export, verify) = try utility.exportAndVerify()
            #expect(export.status == 0, "\(export.stderr)")
            let report = CommandLine.json(verify.stdout)
            // Exactly one sale per idempotency key: as many sales in the logs as keys.
            #expect(verify.status == 0 && report["sales"] as? Int == 400, "\(verify.stdout)")
        }

        @Test("a station killed with SIGKILL mid-sale: retried at another station, every paid sale has exactly one token, nothing twice")
        func stationKilledMidSale() async throws {
            guard let server = PostgresServer.shared else { throw PostgresServerError.unavailable }
            let utility = try Utility(server: server, stations: 2, meters: 5)
            let first = try utility.serve("s1")
            let second = try utility.serve("s2")
            let t1 = try await utility.login(first), t2 = try await utility.login(second)
            let meters = utility.meters.map(\.description)
            let killed = Flag()
            let jobs: [@Sendable () async -> ClientSale] = (0..<300).map { i in
                let meter = meters[i % 5]
                // Clients of s1 move to s2 once s1 is gone (a POS falls back to another counter).
                return { await HTTP.sell({ killed.value ? second : first }, token: { killed.value ? t2 : t1 }, meter: meter, key: "kill-\(i)") }
            }
            let pid = utility.servers["s1"]?.process.pid ?? 0
            let killer = Task.detached {
                try? await Task.sleep(nanoseconds: 400_000_000)
                kill(pid, SIGKILL)
                killed.set()
            }
            let sales = await runConcurrently(jobs, width: 32)
            await killer.value
            utility.stop("s1", signal: SIGKILL)
            #expect(sales.allSatisfy { ($0.status == 201 || $0.status == 200) && $0.token != nil })
            let pairs = sales.compactMap { s in s.tid.map { "\(s.meter)/\($0)" } }
            #expect(Set(pairs).count == pairs.count)
            try Self.checkMeters(utility, sales)
            utility.stop("s2")
            let (export, verify) = try utility.exportAndVerify()
            #expect(export.status == 0, "\(export.stderr)")
            let report = CommandLine.json(verify.stdout)
            #expect(verify.status == 0 && report["sales"] as? Int == 300, "\(verify.stdout)")
        }
    }
}

final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    func set(_ n: T) { lock.lock(); v = n; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return v }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var on = false
    func set() { lock.lock(); on = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return on }
}
