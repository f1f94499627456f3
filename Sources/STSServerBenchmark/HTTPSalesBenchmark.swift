import AsyncHTTPClient
import Dispatch
import Foundation
import NIOCore
import STSBenchmark
import STSServer
import STSStation
import STSTariff

/// Durable sales over HTTP: a benchmark station behind an in-process ``StationServer`` on
/// loopback, driven by keep-alive clients (AsyncHTTPClient) that each sell in a loop with a fresh
/// Idempotency-Key; every answer is a sale committed to SQLite (WAL, `synchronous=FULL`) before
/// it was sent. Client and server share the machine's cores, as a counter PC would not.
public enum HTTPSalesBenchmark {
    /// One concurrency level.
    public struct Row: Sendable {
        /// Concurrent clients, each with one request in flight.
        public var clients: Int
        /// Sales answered 201 in the measured time.
        public var sales: Int
        /// Answers that were not 201 (each is an error to look at).
        public var errors: Int
        /// Sales per second.
        public var perSecond: Double
        /// Latency percentiles of one sale request, microseconds.
        public var p50: Double, p99: Double, p999: Double
    }

    /// Runs `seconds` at each client count in `clients`; with `pointOfSale`, each request is an
    /// Electrum interface purchase (`POST /prepaidutility/v3/tokenPurchases/{uuid}`, HTTP Basic)
    /// instead of an API sale.
    public static func run(folder: String, meters: Int = 1_000, clients: [Int], seconds: Double, pointOfSale: Bool = false,
                           progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> [Row] {
        let bench = try BenchmarkStation(folder: folder, meters: meters)
        let posSecret = pointOfSale ? try bench.station.addPOSClient(POSClient(name: "bench", currency: "710", minimum: .zero,
                                                                                  maximum: Money(cents: 100_000_000)), by: bench.supervisor) : nil
        let server = StationServer(station: bench.station, configuration: .init(host: "127.0.0.1", port: 0), logLines: { _ in })
        let ready = AsyncStream<String>.makeStream()
        let serving = Task { try await server.run(signals: false) { url in ready.continuation.yield(url) } }
        defer { serving.cancel() }
        var it = ready.stream.makeAsyncIterator()
        guard let url = await it.next() else { throw StationError.store("the server did not start") }
        progress("server on \(url), \(meters) meters")

        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(clients.max() ?? 1, 1))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        defer { _ = client.shutdown() }
        let token = try await logIn(client, url)
        var rows: [Row] = []
        var serial = 0
        for n in clients where n >= 1 {
            serial += 1
            let round = serial
            let row = try await measure(client, urls: [url], tokens: [token], meters: bench.meters.map(\.description), clients: n, seconds: seconds,
                                        keyPrefix: "http-\(round)", posSecret: posSecret)
            progress("\(n) clients: \(Int(row.perSecond)) sales/s")
            rows.append(row)
        }
        return rows
    }

    /// `clients` keep-alive clients selling in a loop for `seconds`, client `c` at `urls[c % urls.count]`,
    /// each sale with a fresh Idempotency-Key; latencies of the sales answered 201.
    static func measure(_ client: HTTPClient, urls: [String], tokens: [String], meters: [String], clients: Int, seconds: Double,
                        keyPrefix: String, posSecret: String? = nil) async throws -> Row {
        let basic = posSecret.map { "Basic " + Data("bench:\($0)".utf8).base64EncodedString() }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        let start = DispatchTime.now().uptimeNanoseconds
        let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for c in 0..<clients {
                let url = urls[c % urls.count], token = tokens[c % tokens.count]
                group.addTask {
                    var latencies: [Double] = []
                    var errors = 0
                    var i = 0
                    while DispatchTime.now().uptimeNanoseconds < deadline {
                        let pan = meters[(c * 7_919 + i) % meters.count]
                        var request: HTTPClientRequest
                        if let basic {
                            let id = UUID().uuidString.lowercased()
                            request = HTTPClientRequest(url: url + "/prepaidutility/v3/tokenPurchases/\(id)")
                            request.headers.add(name: "Authorization", value: basic)
                            request.body = .bytes(ByteBuffer(string: Self.posPurchase(id: id, meter: pan)))
                        } else {
                            request = HTTPClientRequest(url: url + "/api/v1/sales")
                            request.headers.add(name: "Authorization", value: "Bearer \(token)")
                            request.headers.add(name: "Idempotency-Key", value: "\(keyPrefix)-\(c)-\(i)")
                            request.body = .bytes(ByteBuffer(string: "{\"meter\":\"\(pan)\",\"money\":\"20.00\"}"))
                        }
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        let response = try await client.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        if response.status.code == 201 { latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1_000) } else { errors += 1 }
                        i += 1
                    }
                    return (latencies, errors)
                }
            }
            var all: [Double] = []
            var errors = 0
            for try await (l, e) in group { all += l; errors += e }
            return (all, errors)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let sorted = results.0.sorted()
        func pct(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return Row(clients: clients, sales: sorted.count, errors: results.1, perSecond: Double(sorted.count) / elapsed,
                   p50: pct(0.50), p99: pct(0.99), p999: pct(0.999))
    }

    /// A point of sale's purchase of 20.00 for `meter` (Specs/prepaid-utility.md §3).
    static func posPurchase(id: String, meter: String) -> String {
        #"{"id":"\#(id)","time":"2026-12-03T10:00:00.000Z","originator":{"institution":{"id":"1","name":"Bench"},"terminalId":"BENCH001","#
            + #""merchant":{"merchantId":"000000000000001","merchantType":"5411","merchantName":{"name":"Bench","city":"Bench","region":"WC","country":"ZA"}}},"#
            + #""client":{"id":"1","name":"Bench"},"thirdPartyIdentifiers":[],"meter":{"meterId":"\#(meter)"},"purchaseAmount":{"amount":2000,"currency":"710"}}"#
    }

    static func logIn(_ client: HTTPClient, _ url: String) async throws -> String {
        var request = HTTPClientRequest(url: url + "/api/v1/session")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "{\"user\":\"olly\",\"password\":\"\(BenchmarkStation.password)\"}"))
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 16)
        let text = String(buffer: body)
        guard response.status.code == 201, let range = text.range(of: #""token":""#), let end = text[range.upperBound...].firstIndex(of: "\"") else {
            throw StationError.authenticationFailed
        }
        return String(text[range.upperBound..<end])
    }
}

extension HTTPSalesBenchmark {
    /// One station count on a shared PostgreSQL database.
    public struct StationsRow: Sendable {
        /// Station servers, each its own ``StationServer`` with its own station (chain, signing key, writer).
        public var stations: Int
        /// The measurement over all of them (clients spread evenly).
        public var row: Row
    }

    /// Durable sales with 1, 2, 4 … station servers against one PostgreSQL database (an empty one
    /// at `database`): the stations are made once, then each count in `stationCounts` runs
    /// `clients` keep-alive clients in total for `seconds`, spread over that many servers.
    public static func runStations(folder: String, database: String, passwordFile: String?, meters: Int = 1_000, stationCounts: [Int],
                                   clients: Int, seconds: Double, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> [StationsRow] {
        let most = stationCounts.max() ?? 1
        let bench = try BenchmarkStation(folder: folder, meters: meters, database: database, databasePasswordFile: passwordFile, stations: most)
        bench.station.close()
        progress("\(most) stations and \(meters) meters in \(database)")
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(clients, 1))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        defer { _ = client.shutdown() }
        var rows: [StationsRow] = []
        for (round, n) in stationCounts.enumerated() where n >= 1 && n <= most {
            var urls: [String] = [], tokens: [String] = [], serving: [Task<Void, Error>] = [], stations: [Station] = []
            for name in bench.stationNames.prefix(n) {
                let station = try Station.open(path: database, kekPath: bench.kekFile, stationName: name, passwordFile: passwordFile)
                stations.append(station)
                let server = StationServer(station: station, configuration: .init(host: "127.0.0.1", port: 0), logLines: { _ in })
                let ready = AsyncStream<String>.makeStream()
                serving.append(Task { try await server.run(signals: false) { url in ready.continuation.yield(url) } })
                var it = ready.stream.makeAsyncIterator()
                guard let url = await it.next() else { throw StationError.store("a server did not start") }
                urls.append(url)
                tokens.append(try await logIn(client, url))
            }
            let row = try await measure(client, urls: urls, tokens: tokens, meters: bench.meters.map(\.description), clients: clients, seconds: seconds, keyPrefix: "pg-\(round)")
            for t in serving { t.cancel() }
            for t in serving { _ = try? await t.value }
            for s in stations { s.close() }
            progress("\(n) stations, \(clients) clients: \(Int(row.perSecond)) sales/s")
            rows.append(StationsRow(stations: n, row: row))
        }
        return rows
    }
}
