import ArgumentParser
import Foundation
import STSBenchmark
import STSServerBenchmark
import STSStation

/// `stsvend station bench-http`.
struct StationHTTPBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-http",
        abstract: "Measure durable sales over HTTP (POST /api/v1/sales, keep-alive clients, group commit) and the same sales through the command line.",
        discussion: "Use a release build (swift run -c release). Each level runs --seconds with that many concurrent clients on loopback, in this process; then --cli sales run as one 'stsvend sell' process each.")
    @Option(help: "Folder for the benchmark station (created; removed afterwards).") var dir = NSTemporaryDirectory() + "stsvend-http-bench"
    @Option(help: "Client counts, comma-separated.") var clients = "1,8,64,256"
    @Option(help: "Seconds per client count.") var seconds = 5.0
    @Option(help: "Sales through the command line for comparison (0: none).") var cli = 50
    @Flag(help: "Measure point-of-sale purchases (the Electrum interface, /prepaidutility/v3) instead of API sales.") var pos = false
    @Option(help: "An empty PostgreSQL database (postgres://USER@HOST:PORT/DBNAME): measure 1, 2, 4 … station servers sharing it instead of SQLite.")
    var db: String?
    @Option(help: "With --db: station counts, comma-separated (the clients are spread over them).") var stations = "1,2,4"
    @Option(help: "With --db: file holding the PostgreSQL password (mode 0600); else PGPASSWORD or ~/.pgpass.") var dbPasswordFile: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        if let db {
            try runShared(db)
            return
        }
        let levels = clients.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { (1...4_096).contains($0) }
        guard !levels.isEmpty, seconds > 0, seconds <= 3_600 else { throw ValidationError("--clients takes counts like 1,8,64 and --seconds 0…3600") }
        try runStation {
            let folder = dir + "/\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let done = DispatchSemaphore(value: 0)
            let box = ResultBox()
            let duration = seconds, usePOS = pos
            Task {
                do { box.rows = try await HTTPSalesBenchmark.run(folder: folder + "/http", clients: levels, seconds: duration, pointOfSale: usePOS) { printError($0) } } catch { box.error = error }
                done.signal()
            }
            done.wait()
            if let e = box.error { throw e }
            let (cliRate, cliP50) = try cli > 0 ? Self.commandLineSales(folder: folder + "/cli", count: cli) : (0, 0)
            if output.json {
                printLine(MeterView.json { w in
                    w.array("http") { a in
                        for r in box.rows {
                            a.element { e in
                                e.field("clients", r.clients); e.field("sales", r.sales); e.field("errors", r.errors); e.field("per_second", Int(r.perSecond))
                                e.field("p50_us", Int(r.p50)); e.field("p99_us", Int(r.p99)); e.field("p999_us", Int(r.p999))
                            }
                        }
                    }
                    w.field("cli_sales", cli); w.field("cli_per_second", Int(cliRate)); w.field("cli_p50_ms", Int(cliP50))
                })
            } else {
                for r in box.rows {
                    printLine("\(pos ? "POS " : "HTTP") \(r.clients) clients: \(Int(r.perSecond)) durable sales/s, p50 \(Int(r.p50)) µs, p99 \(Int(r.p99)) µs, p99.9 \(Int(r.p999)) µs (\(r.sales) sales, \(r.errors) errors)")
                }
                if cli > 0 { printLine("CLI  one 'stsvend sell' process per sale: \(String(format: "%.1f", cliRate)) sales/s, p50 \(Int(cliP50)) ms (\(cli) sales)") }
            }
        }
    }

    /// Station servers sharing one PostgreSQL database.
    func runShared(_ db: String) throws {
        let counts = stations.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { (1...64).contains($0) }
        guard let total = clients.split(separator: ",").compactMap({ Int($0.trimmingCharacters(in: .whitespaces)) }).first, (1...4_096).contains(total),
              !counts.isEmpty, seconds > 0, seconds <= 3_600 else {
            throw ValidationError("with --db: --stations takes counts like 1,2,4, --clients one total like 64, --seconds 0…3600")
        }
        try runStation {
            let folder = dir + "/\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let done = DispatchSemaphore(value: 0)
            let box = SharedResultBox()
            let duration = seconds, passwordFile = dbPasswordFile
            Task {
                do {
                    box.rows = try await HTTPSalesBenchmark.runStations(folder: folder, database: db, passwordFile: passwordFile, stationCounts: counts,
                                                                        clients: total, seconds: duration) { printError($0) }
                } catch { box.error = error }
                done.signal()
            }
            done.wait()
            if let e = box.error { throw e }
            if output.json {
                printLine(MeterView.json { w in
                    w.array("postgres") { a in
                        for s in box.rows {
                            let r = s.row
                            a.element { e in
                                e.field("stations", s.stations); e.field("clients", r.clients); e.field("sales", r.sales); e.field("errors", r.errors)
                                e.field("per_second", Int(r.perSecond)); e.field("p50_us", Int(r.p50)); e.field("p99_us", Int(r.p99)); e.field("p999_us", Int(r.p999))
                            }
                        }
                    }
                })
            } else {
                for s in box.rows {
                    let r = s.row
                    printLine("PostgreSQL \(s.stations) station\(s.stations == 1 ? "" : "s"), \(r.clients) clients: \(Int(r.perSecond)) durable sales/s, p50 \(Int(r.p50)) µs, p99 \(Int(r.p99)) µs, p99.9 \(Int(r.p999)) µs (\(r.sales) sales, \(r.errors) errors)")
                }
            }
        }
    }

    /// `count` sales, each its own `stsvend sell` process (open the station, log in, sell, print).
    static func commandLineSales(folder: String, count: Int) throws -> (Double, Double) {
        let bench = try BenchmarkStation(folder: folder, meters: 100)
        bench.station.now = { Int64(Date().timeIntervalSince1970) }
        let pw = folder + "/password"
        try PrivateFile.create(pw, contents: Array((BenchmarkStation.password + "\n").utf8))
        let me = ProcessInfo.processInfo.arguments[0]
        var latencies: [Double] = []
        let start = Date()
        for i in 0..<count {
            let t0 = Date()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: me)
            p.arguments = ["sell", "--db", folder + "/bench.db", "--user", "olly", "--password-file", pw, "--meter", bench.meters[i % 100].description,
                           "--money", "20.00", "--request-id", "cli-\(i)", "--json"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw StationError.vending("a command-line sale failed (exit \(p.terminationStatus))") }
            latencies.append(Date().timeIntervalSince(t0) * 1_000)
        }
        latencies.sort()
        return (Double(count) / Date().timeIntervalSince(start), latencies[latencies.count / 2])
    }
}

private final class SharedResultBox: @unchecked Sendable {
    var rows: [HTTPSalesBenchmark.StationsRow] = []
    var error: Error?
}

private final class ResultBox: @unchecked Sendable {
    var rows: [HTTPSalesBenchmark.Row] = []
    var error: Error?
}
