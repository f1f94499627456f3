#if canImport(Glibc)
import Glibc
#endif
import STSBatch
import STSCrypto
import STSTokenFormat
import STSVending

/// Throughput and latency of issuing and decoding tokens, per DKGA + EA pair, on one core.
///
/// Every token derives its meter's decoder key afresh (1 024 different meters in turn), builds
/// the block, encrypts it and writes the 20 digits into a stack buffer: the full per-token
/// work of a vending server that keeps no per-meter cache.
public enum VendingBenchmark {
    /// One measurement: how many operations ran in how long, and their latency percentiles.
    public struct Result: Sendable {
        /// A result from its name, operation count, elapsed time and latency percentiles.
        public init(name: String, operations: Int, seconds: Double, p50Nanoseconds: Double, p99Nanoseconds: Double) {
            self.name = name; self.operations = operations; self.seconds = seconds
            self.p50Nanoseconds = p50Nanoseconds; self.p99Nanoseconds = p99Nanoseconds
        }
        /// What was measured, e.g. `issue credit, DKGA04+EA07` or `simulator entry (load, apply, fsync save)`.
        public let name: String
        /// Operations completed in the throughput run (tokens issued or decoded, batch lines, meter entries).
        public let operations: Int
        /// Wall-clock time the throughput run took, in seconds.
        public let seconds: Double
        /// Median latency of one operation, in nanoseconds.
        public let p50Nanoseconds: Double
        /// 99th-percentile latency of one operation, in nanoseconds.
        public let p99Nanoseconds: Double
        /// Throughput: operations per second.
        public var perSecond: Double { Double(operations) / seconds }
        /// Mean time per operation, in nanoseconds.
        public var meanNanoseconds: Double { seconds * 1e9 / Double(operations) }
    }

    struct Setup {
        let name: String
        let meters: [MeterProfile]
        let key: VendingKey
    }

    static func setups() throws -> [Setup] {
        func meters(dkga: Int, ea: Int, baseDate: Int) throws -> [MeterProfile] {
            try (0..<1024).map { i in
                let drnBody = (0..<10).map { UInt8((i >> ($0 % 10)) % 10) }
                let drn = drnBody + [Luhn.checkDigit(for: drnBody)]
                return MeterProfile(
                    pan: try MeterPAN(iin: "600727", drn: String(decoding: drn.map { $0 + 48 }, as: UTF8.self)),
                    supplyGroup: try SupplyGroupCode(value: 201457), tariffIndex: try TariffIndex(1), revision: try KeyRevisionNumber(1),
                    keyType: .unique, expiry: try KeyExpiryNumber(255), baseDate: try BaseDate(year: baseDate),
                    derivation: try KeyDerivationAlgorithm(code: dkga), encryption: try EncryptionAlgorithm(code: ea))
            }
        }
        let vk8 = try VendingKey(hex: "ABABABABABABABAB")
        let vk20 = try VendingKey(hex: "ABABABABABABABAB949494949494949401234567")
        return [
            Setup(name: "DKGA02+EA07", meters: try meters(dkga: 2, ea: 7, baseDate: 1993), key: vk8),
            Setup(name: "DKGA04+EA07", meters: try meters(dkga: 4, ea: 7, baseDate: 2014), key: vk20),
            Setup(name: "DKGA04+EA11", meters: try meters(dkga: 4, ea: 11, baseDate: 2014), key: vk20),
        ]
    }

    /// Runs every measurement for about `seconds` each.
    /// Runs every measurement whose name contains `filter` (all when empty) for about `seconds` each.
    public static func run(seconds: Double = 1.0, filter: String = "", progress: (String) -> Void = { _ in }) throws -> [Result] {
        var results: [Result] = []
        func wanted(_ name: String) -> Bool { filter.isEmpty || name.contains(filter) }
        for s in try setups() where wanted("issue credit, \(s.name)") || wanted("decode credit, \(s.name)") {
            progress("issue \(s.name)")
            if wanted("issue credit, \(s.name)") { results.append(try measure("issue credit, \(s.name)", seconds: seconds) { i in
                let meter = s.meters[i & 1023]
                let issuer = try TokenIssuer(meter: meter, vendingKey: s.key)
                let token = try issuer.credit(.electricity, units: UInt64(i & 0x3FFF) + 1,
                                              tid: TokenIdentifier(field: UInt32(i & 0x7FFFF) * 2 + 2), rnd: UInt8(i & 15))  // even: never the reserved minute
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
                    token.number.writeDigits(to: buf.baseAddress!)
                    return UInt64(buf[19])
                }
            }) }
            let tokens = try s.meters.enumerated().map { i, m in
                try TokenIssuer(meter: m, vendingKey: s.key).credit(.electricity, units: 100, tid: TokenIdentifier(field: UInt32(1000 + 2 * i)), rnd: 5).number
            }
            progress("decode \(s.name)")
            if wanted("decode credit, \(s.name)") { results.append(try measure("decode credit, \(s.name)", seconds: seconds) { i in
                let decoder = try TokenDecoder(meter: s.meters[i & 1023], vendingKey: s.key)
                return try decoder.decode(tokens[i & 1023]).dataBlock.rawValue
            }) }
        }
        if wanted("batch request") {
            progress("batch")
            results.append(try batch(seconds: seconds))
        }
        progress("meter")
        results += try MeterBenchmark.run(seconds: seconds, filter: filter)
        return results
    }

    /// Batch requests end to end in memory: parse the JSON line, derive, issue, write the result line.
    static func batch(seconds: Double) throws -> Result {
        let keys = ["k0": try VendingKey(hex: "ABABABABABABABAB")]
        var vending = BatchVending(keys: keys, now: { 1_700_000_000 })
        let lines: [[UInt8]] = (0..<1024).map { i in
            Array(("{\"id\":\"r\(i)\",\"type\":\"credit\",\"meter\":{\"pan\":\"600727000000000009\",\"sgc\":\"123456\",\"ti\":1,\"krn\":1,\"kt\":2,\"ken\":255,\"base_date\":1993,\"dkga\":2,\"ea\":7,\"vending_key\":\"k0\"},\"subclass\":\"electricity\",\"tid\":\(1000 + 2 * i),\"units\":\(i + 1),\"rnd\":5}").utf8)
        }
        var writer = JSONLineWriter()
        return try measure("batch request (JSON in/out), DKGA02+EA07", seconds: seconds) { i in
            if writer.bytes.count > 1 << 20 { writer.reset() }
            let ok = lines[i & 1023].withUnsafeBufferPointer { vending.process(line: $0, into: &writer) }
            return ok ? 1 : 0
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Throughput over untimed iterations for `seconds`, then latency percentiles over a
    /// sample of individually timed operations.
    static func measure(_ name: String, seconds: Double, _ op: (Int) throws -> UInt64) throws -> Result {
        var sink: UInt64 = 0
        for i in 0..<10_000 { sink &+= try op(i) }  // warm-up
        var count = 0
        let start = now()
        var elapsed = 0.0
        repeat {
            for _ in 0..<10_000 { sink &+= try op(count); count += 1 }
            elapsed = now() - start
        } while elapsed < seconds
        var samples = [Double](repeating: 0, count: 20_000)
        var ts0 = timespec(), ts1 = timespec()
        for k in 0..<samples.count {
            clock_gettime(CLOCK_MONOTONIC, &ts0)
            sink &+= try op(k)
            clock_gettime(CLOCK_MONOTONIC, &ts1)
            samples[k] = Double(ts1.tv_sec - ts0.tv_sec) * 1e9 + Double(ts1.tv_nsec - ts0.tv_nsec)
        }
        samples.sort()
        if sink == 42 { print("") }  // keeps the work observable
        return Result(name: name, operations: count, seconds: elapsed,
                      p50Nanoseconds: samples[samples.count / 2], p99Nanoseconds: samples[samples.count * 99 / 100])
    }
}
