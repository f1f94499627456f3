#if canImport(Glibc)
import Glibc
#endif
import Foundation
import STSCrypto
import STSMeter
import STSMeterSimulator
import STSTokenFormat
import STSVending

/// Meter-side measurements: tokens decoded and applied per second, the acceptance rate of
/// random input, and simulator entries per second with the state file fsynced.
public enum MeterBenchmark {
    static func meter(_ ea: EncryptionAlgorithm) throws -> (MeterState, TokenIssuer) {
        let vk = try VendingKey(hex: "ABABABABABABABAB949494949494949401234567")
        let p = MeterProfile(pan: try MeterPAN("600727000000000009"), supplyGroup: try SupplyGroupCode("201457"),
                             tariffIndex: try TariffIndex(1), revision: try KeyRevisionNumber(1), keyType: .unique,
                             expiry: try KeyExpiryNumber(255), baseDate: .y2014, derivation: .dkga04, encryption: ea)
        var policy = MeterPolicy()
        // As much credit as a state file may hold, so millions of accepted tokens never overflow.
        policy.maximumUnitCredit = MeterPolicy.largestCreditMaximum
        return (try MeterState(keyParameters: p.keyParameters, expiry: p.expiry, vendingKey: vk, policy: policy),
                try TokenIssuer(meter: p, vendingKey: vk))
    }

    /// Fresh credit tokens with increasing TIDs are decoded and applied; each is a full
    /// accept (decrypt, CRC, TID memory insert, register update).
    static func decodeAndApply(_ ea: EncryptionAlgorithm, seconds: Double) throws -> VendingBenchmark.Result {
        let (state, issuer) = try meter(ea)
        let count = 1 << 20
        let tokens = try (0..<count).map { n in
            try issuer.credit(.electricity, units: 1, tid: TokenIdentifier(field: UInt32(2 * n + 2)), rnd: UInt8(n & 15)).number
        }
        var decoder = MeterDecoder(state: state)
        var next = 0
        var refused = 0
        defer { if refused > 0 { print("warning: \(refused) benchmark tokens were refused") } }
        return try VendingBenchmark.measure("meter decode+apply credit, EA\(ea)", seconds: seconds) { _ in
            if next == count {
                next = 0
                decoder.state.tidMemory.clear()
            }
            let outcome = decoder.enter(tokens[next], at: 0)
            next += 1
            if outcome.result != .accept { refused += 1 }
            return outcome.result == .accept ? 1 : 0
        }
    }

    /// Random 20-digit numbers keyed into a meter (lockout reset each time): how many are accepted.
    public static func randomInput(count: Int) throws -> (accepted: Int, count: Int, seconds: Double) {
        var (state, _) = try meter(.sta)
        state.policy.lockout.threshold = Int.max
        var decoder = MeterDecoder(state: state)
        var rng = SystemRandomNumberGenerator()
        var accepted = 0
        let start = VendingBenchmark.now()
        for _ in 0..<count {
            // Uniform over all 20-digit strings: 10^20 values, of which those ≥ 2^66 are format errors.
            let upper = UInt64.random(in: 0..<10_000_000_000, using: &rng)
            let lower = UInt64.random(in: 0..<10_000_000_000, using: &rng)
            let (hi, lo) = upper.multipliedFullWidth(by: 10_000_000_000)
            let (sum, carry) = lo.addingReportingOverflow(lower)
            let top = hi + (carry ? 1 : 0)
            guard top < 4 else { continue }
            if decoder.enter(TokenNumber(high: UInt8(top), low: sum), at: 0).result.isAccepted { accepted += 1 }
        }
        return (accepted, count, VendingBenchmark.now() - start)
    }

    /// Simulator entries per second, each saved with fsync of the file and its folder.
    public static func simulatorEntries(count: Int) throws -> VendingBenchmark.Result {
        let (state, issuer) = try meter(.sta)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sts-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("meter.state").path
        try StateFile.save(SimulatedMeter(state: state), to: path)
        let tokens = try (0..<count).map { try issuer.credit(.electricity, units: 1, tid: TokenIdentifier(field: UInt32(2 * $0 + 2)), rnd: 0).number.digits }
        var latencies: [Double] = []
        let start = VendingBenchmark.now()
        for t in tokens {
            let t0 = VendingBenchmark.now()
            var m = try StateFile.load(path)
            _ = m.enter(t, at: 0)
            try StateFile.save(m, to: path)
            latencies.append((VendingBenchmark.now() - t0) * 1e9)
        }
        let elapsed = VendingBenchmark.now() - start
        latencies.sort()
        return VendingBenchmark.Result(name: "simulator entry (load, apply, fsync save)", operations: count, seconds: elapsed,
                                       p50Nanoseconds: latencies[count / 2], p99Nanoseconds: latencies[count * 99 / 100])
    }

    /// Runs the meter measurements whose name contains `filter` (all when empty): credit tokens decoded
    /// and applied for EA07 and EA11 for about `seconds` each, then 200 simulator entries, each saved with fsync.
    public static func run(seconds: Double, filter: String) throws -> [VendingBenchmark.Result] {
        var out: [VendingBenchmark.Result] = []
        for ea in [EncryptionAlgorithm.sta, .misty1] where filter.isEmpty || "meter decode+apply credit, EA\(ea)".contains(filter) {
            out.append(try decodeAndApply(ea, seconds: seconds))
        }
        if filter.isEmpty || "simulator entry".contains(filter) { out.append(try simulatorEntries(count: 200)) }
        return out
    }
}
