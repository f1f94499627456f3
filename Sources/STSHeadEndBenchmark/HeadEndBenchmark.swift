import Dispatch
import Foundation
import STSCrypto
import STSDLMS
import STSHeadEnd
import STSMeter
import STSMeterSimulator
import STSSupport
import STSStation
import STSTariff
import STSTokenFormat

/// The head-end against a fleet of simulated meters on this machine: one reading round, one
/// token delivered to every meter, every relay opened and closed again; wall time per round
/// and per-meter p50/p99. Meters and head-end share the machine's cores.
public enum HeadEndBenchmark {
    public struct Round: Sendable {
        public var name: String
        public var meters: Int
        public var failed: Int
        public var seconds: Double
        public var p50: Double
        public var p99: Double
        /// For deliveries: from the sale's commit to the meter's answer, p99 (queueing included).
        public var endToEndP99: Double?
    }

    public struct Result: Sendable {
        public var meters: Int
        public var concurrency: Int
        public var setupSeconds: Double
        public var rounds: [Round]
    }

    static func percentile(_ v: [Double], _ p: Double) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s[min(s.count - 1, Int((Double(s.count) * p).rounded(.up)) - 1)]
    }

    /// Creates `count` meters and a station in `folder`, serves the meters, runs the rounds.
    public static func run(folder: String, count: Int, concurrency: Int = 64, progress: (String) -> Void = { _ in }) throws -> Result {
        let setupStart = Date()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (station, secret) = try Station.create(path: folder + "/bench.db", admin: "bench", password: Array("bench password".utf8), passwordCost: 10)
        let admin = try station.authenticate(user: "bench", password: Array("bench password".utf8),
                                             totp: TOTP(secret: secret).code(atUnixSeconds: station.now()), action: "bench")
        let attributes = VendingKeyAttributes(derivation: .dkga02, encryption: .sta, baseDate: try BaseDate(year: 2014), supplyGroup: try SupplyGroupCode("123456"),
                                              revision: try KeyRevisionNumber(1), keyType: try KeyType(2), tariffIndex: try TariffIndex(1), expiry: try KeyExpiryNumber(255))
        let keyBytes: [UInt8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]
        try station.importKey(name: "bench", bytes: keyBytes, attributes: attributes, by: admin)
        try station.setTariff(Tariff(name: "flat", blocks: [TariffBlock(upToTenths: nil, price: EnergyPrice("1.00"))]), by: admin)
        let vendingKey = try VendingKey(bytes: keyBytes)
        var meterPANs: [MeterPAN] = []
        let (_, created) = try FleetManifest.create(folder: folder, count: count, basePort: 0, host: "127.0.0.1", meter: { i in
            guard let number = MeterPAN.meterNumber(serial: 500_000_000 + UInt64(i)) else { throw DLMSError.tooLarge("meter serials") }
            let pan = try MeterPAN(meterNumber: number)
            meterPANs.append(pan)
            let profile = try attributes.meter(pan)
            var meter = SimulatedMeter(state: MeterState(keyParameters: profile.keyParameters, expiry: profile.expiry,
                                                         decoderKey: try profile.decoderKey(vendingKey: vendingKey), policy: MeterPolicy()))
            meter.startWithCredit(tenths: 100)
            return meter
        }, progress: { n in if n % 250 == 0 { progress("created \(n)/\(count) meters") } })
        var keys: [String: DLMSClientKeys] = [:]
        for (pan, k) in zip(meterPANs, created) {
            keys[pan.description] = k
            try station.addMeter(MeterRegistration(pan: pan, keyName: "bench", tariff: "flat", customer: "bench \(pan.description.suffix(6))"), by: admin)
        }
        let fleet = try MeterFleet(folder: folder, threads: 2)
        try BlockingTask.run { try await fleet.start() }
        defer { fleet.stop() }
        for e in fleet.manifest.meters {
            guard let k = keys[e.pan], let titles = k.titles, let sk = k.securityKeys else { continue }
            try station.connectMeter(MeterLink(pan: e.pan, host: "127.0.0.1", port: e.port, serverTitle: titles.server, clientTitle: titles.client,
                                               blockCipherKey: sk.blockCipherKey, authenticationKey: sk.authenticationKey), by: admin)
        }
        let setup = Date().timeIntervalSince(setupStart)
        progress("set up in \(String(format: "%.1f", setup)) s; measuring")
        let headEnd = HeadEnd(station: station, concurrency: concurrency, timeout: 5)
        var rounds: [Round] = []

        // 1. Reading: registers, load profile since the last capture, events.
        var t = Date()
        let read = try headEnd.readAll()
        rounds.append(Round(name: "read registers, profile, events", meters: read.count, failed: read.filter { $0.error != nil }.count,
                            seconds: Date().timeIntervalSince(t), p50: percentile(read.map(\.seconds), 0.5), p99: percentile(read.map(\.seconds), 0.99)))
        // 2. A second round: the head-end now knows every meter's invocation counter.
        t = Date()
        let read2 = try headEnd.readAll()
        rounds.append(Round(name: "read again (counters known)", meters: read2.count, failed: read2.filter { $0.error != nil }.count,
                            seconds: Date().timeIntervalSince(t), p50: percentile(read2.map(\.seconds), 0.5), p99: percentile(read2.map(\.seconds), 0.99)))
        // 3. One sale per meter, then every token delivered through the gateways.
        var soldAt: [Int64: Date] = [:]
        for e in fleet.manifest.meters {
            let r = try station.sell(SaleRequest(meter: try MeterPAN(e.pan), amount: .money(try Money("10.00")), requestID: UUID().uuidString), by: admin)
            soldAt[r.saleID] = Date()
        }
        t = Date()
        let due = try station.dueDeliveries(limit: count)
        let delivered = headEnd.fanOut(due) { d -> (DeliveryAttempt, Date) in (headEnd.deliver(d), Date()) }
        let endToEnd = delivered.map { a, done in done.timeIntervalSince(soldAt[a.saleID] ?? done) }
        rounds.append(Round(name: "deliver one token each", meters: delivered.count, failed: delivered.filter { !$0.0.accepted }.count,
                            seconds: Date().timeIntervalSince(t), p50: percentile(delivered.map(\.0.seconds), 0.5), p99: percentile(delivered.map(\.0.seconds), 0.99),
                            endToEndP99: percentile(endToEnd, 0.99)))
        // 4. A counter's day: one sale at a time, each delivered before the next (sale + delivery).
        var single: [Double] = []
        var singleFailed = 0
        let pans = fleet.manifest.meters.map(\.pan)
        for i in 0..<min(200, pans.count) {
            let s = DispatchTime.now().uptimeNanoseconds
            let r = try station.sell(SaleRequest(meter: try MeterPAN(pans[i]), amount: .money(try Money("5.00")), requestID: UUID().uuidString), by: admin)
            guard let d = try station.delivery(sale: r.saleID), headEnd.deliver(d).accepted else { singleFailed += 1; continue }
            single.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
        }
        rounds.append(Round(name: "sell + deliver, one at a time", meters: single.count + singleFailed, failed: singleFailed,
                            seconds: single.reduce(0, +), p50: percentile(single, 0.5), p99: percentile(single, 0.99)))
        // 5. Every relay opened, then closed.
        for connect in [false, true] {
            t = Date()
            let pans = fleet.manifest.meters.map(\.pan)
            let times = headEnd.fanOut(pans) { pan -> Double? in
                let s = DispatchTime.now().uptimeNanoseconds
                do { try headEnd.withAssociation(pan) { try $0.switchSupply(connect: connect) } } catch { return nil }
                return Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9
            }
            let ok = times.compactMap { $0 }
            rounds.append(Round(name: connect ? "reconnect every relay" : "disconnect every relay", meters: times.count, failed: times.count - ok.count,
                                seconds: Date().timeIntervalSince(t), p50: percentile(ok, 0.5), p99: percentile(ok, 0.99)))
        }
        return Result(meters: count, concurrency: concurrency, setupSeconds: setup, rounds: rounds)
    }
}

