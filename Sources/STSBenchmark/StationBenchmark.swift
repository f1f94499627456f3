import Dispatch
import Foundation
import STSAuditLog
import STSCrypto
import STSStation
import STSTariff
import STSTokenFormat

/// Durable sales on a real SQLite station file (WAL, `synchronous=FULL`, one fsync per commit)
/// and offline verification of its exported log.
public enum StationBenchmark {
    /// Durable sales per second, single and group-committed, and the offline verification of the exported log.
    public struct Result: Sendable {
        /// Sales made one at a time, each its own transaction and fsync (like a counter).
        public var singleSales: Int
        /// Single sales per second.
        public var singlePerSecond: Double
        /// Median latency of one single sale, in microseconds.
        public var singleP50Microseconds: Double
        /// 99th-percentile latency of one single sale, in microseconds.
        public var singleP99Microseconds: Double
        /// Sales made through the batch (group commit).
        public var batchSales: Int
        /// Sales committed per transaction in the batch.
        public var batchGroup: Int
        /// Batch sales per second.
        public var batchPerSecond: Double
        /// Entries in the exported audit log that was verified.
        public var logEntries: Int
        /// Offline verification speed of that log, entries per second (best of three).
        public var verifyEntriesPerSecond: Double
        /// Whether the verifier found the exported log clean.
        public var verifyClean: Bool
    }

    /// `logEntries`: the batch is made long enough for the exported log to hold at least this
    /// many entries (the verification is measured on it).
    public static func run(folder: String, meters: Int = 1_000, singleSales: Int = 1_000, batchSales: Int = 100_000,
                           group: Int = 1_000, logEntries: Int = 0, progress: (String) -> Void = { _ in }) throws -> Result {
        guard meters >= 1, singleSales >= 1, batchSales >= 0, group >= 1, logEntries >= 0 else {
            throw StationError.invalid(.amount, "the benchmark needs at least one meter and one single sale, and no negative counts")
        }
        let bench = try BenchmarkStation(folder: folder, meters: meters)
        let station = bench.station, pans = bench.meters, sue = bench.supervisor
        let clock = bench.clock
        progress("station ready: \(meters) meters")
        clock.t += 60
        // Single sales: one transaction and one fsync each, like a counter.
        var latencies: [Double] = []
        latencies.reserveCapacity(singleSales)
        let singleStart = DispatchTime.now().uptimeNanoseconds
        for i in 0..<singleSales {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try station.sell(SaleRequest(meter: pans[i % meters], amount: .money(Money(cents: 5_000)), requestID: "s\(i)"), by: sue)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1_000)
        }
        let singleSeconds = Double(DispatchTime.now().uptimeNanoseconds - singleStart) / 1e9
        latencies.sort()
        progress("single sales: \(singleSales) in \(String(format: "%.2f", singleSeconds)) s")
        // Batch: group commit, as many sales as the log's size asks for (each sale one entry,
        // a checkpoint per 1 000).
        let batchSales = max(batchSales, (logEntries - meters * 3 - singleSales) * 1_000 / 1_001 + 1)
        let requests = (0..<batchSales).map { SaleRequest(meter: pans[$0 % meters], amount: .money(Money(cents: 2_000)), requestID: "b\($0)") }
        let batchStart = DispatchTime.now().uptimeNanoseconds
        var sold = 0
        try station.sellBatch(requests, groupSize: group, by: sue) { results in sold += results.filter { $0.receipt != nil }.count }
        let batchSeconds = Double(DispatchTime.now().uptimeNanoseconds - batchStart) / 1e9
        guard sold == batchSales else { throw StationError.vending("benchmark batch sold \(sold) of \(batchSales)") }
        progress("batch: \(batchSales) in \(String(format: "%.2f", batchSeconds)) s")
        // Export and verify.
        let log = folder + "/log.jsonl"
        let (entries, _) = try station.exportLog(to: log, by: sue)
        let bytes = try AuditInputFile.bytes(log)
        let verifier = AuditVerifier(publicKey: station.publicKey)
        var best = Double.infinity
        var clean = false
        for _ in 0..<3 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let report = verifier.verify(bytes)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            clean = report.isClean
        }
        func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        return Result(singleSales: singleSales, singlePerSecond: Double(singleSales) / singleSeconds,
                      singleP50Microseconds: pct(0.50), singleP99Microseconds: pct(0.99),
                      batchSales: batchSales, batchGroup: group, batchPerSecond: Double(batchSales) / batchSeconds,
                      logEntries: Int(entries), verifyEntriesPerSecond: Double(entries) / best, verifyClean: clean)
    }
}

/// A station for measurements: a supervisor (password "benchmark password"), an operator
/// `olly` with the same password, the public demo vending key, a block tariff and `meters`
/// keypad meters, on a real SQLite file in `folder`.
public final class BenchmarkStation: @unchecked Sendable {
    /// The station.
    public let station: Station
    /// The supervisor, acting with a second factor.
    public let supervisor: Actor
    /// The registered meters.
    public let meters: [MeterPAN]
    /// The users' password.
    public static let password = "benchmark password"
    /// The station's clock (Unix seconds), stepped by the set-up past each TOTP window.
    public final class Clock: @unchecked Sendable { public var t = Int64(Date().timeIntervalSince1970) }
    /// The clock the station reads.
    public let clock = Clock()

    /// The stations' names (one on SQLite; `bench-1` … on PostgreSQL).
    public private(set) var stationNames: [String] = []
    /// Where the station lives: the SQLite file, or the PostgreSQL URL.
    public let database: String
    /// The key-encryption key file.
    public let kekFile: String

    /// Creates the station in `folder` (SQLite), or with `database` a PostgreSQL URL, in that
    /// (empty) database with `stations` stations sharing it.
    public init(folder: String, meters count: Int, database: String? = nil, databasePasswordFile: String? = nil, stations: Int = 1) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let password = Array(Self.password.utf8)
        self.database = database ?? folder + "/bench.db"
        kekFile = database == nil ? folder + "/bench.db.kek" : folder + "/bench.kek"
        let (station, secret) = try Station.create(path: self.database, name: database == nil ? "station" : "bench-1", admin: "sue", password: password,
                                                   kekPath: kekFile, now: Int64(Date().timeIntervalSince1970) - 3_600, passwordCost: 10,
                                                   databasePasswordFile: databasePasswordFile, publicKeyOut: database == nil ? nil : folder + "/bench-1.pub")
        self.station = station
        stationNames = [station.name]
        let clock = self.clock
        // Set-up actions are dated in the hour before now (one TOTP step each), so the sales that follow at real time come later.
        clock.t = Int64(Date().timeIntervalSince1970) - 3_600
        station.now = { clock.t }
        func freshSupervisor() throws -> Actor {
            clock.t += 30
            return try station.authenticate(user: "sue", password: password, totp: TOTP(secret: secret).code(atUnixSeconds: clock.t), action: "bench")
        }
        let attributes = VendingKeyAttributes(derivation: .dkga02, encryption: .sta, baseDate: try BaseDate(year: 2014),
                                              supplyGroup: try SupplyGroupCode("123456"), revision: try KeyRevisionNumber(1), keyType: try KeyType(2),
                                              tariffIndex: try TariffIndex(1), expiry: try KeyExpiryNumber(255))
        try station.importKey(name: "k", bytes: [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF], attributes: attributes, by: freshSupervisor())
        try station.setTariff(Tariff(name: "home", blocks: [TariffBlock(upToTenths: 500, price: EnergyPrice("1.20")), TariffBlock(upToTenths: nil, price: EnergyPrice("1.80"))],
                                     freeBasicTenthsPerMonth: 100, vatBasisPoints: 1500), by: freshSupervisor())
        let sue = try freshSupervisor()
        _ = try station.addUser(name: "olly", role: .operator, password: password, by: sue, passwordCost: 10)
        var pans: [MeterPAN] = []
        for i in 0..<count {
            // 11-digit meter numbers (DRN with its Luhn digit); the PAN is built from them.
            let body = String(format: "%010d", 1_000_000 + i)
            let pan = try MeterPAN(meterNumber: body + String(Luhn.checkDigit(for: body.utf8.map { $0 - 48 })))
            pans.append(pan)
            try station.addMeter(MeterRegistration(pan: pan, keyName: "k", tariff: "home", customer: "customer \(i)"), by: sue)
        }
        supervisor = sue
        meters = pans
        if database != nil {
            for n in 2...max(2, stations) where n <= stations {
                _ = try station.addStation(name: "bench-\(n)", publicKeyOut: folder + "/bench-\(n).pub", by: freshSupervisor())
                stationNames.append("bench-\(n)")
            }
        }
    }
}
