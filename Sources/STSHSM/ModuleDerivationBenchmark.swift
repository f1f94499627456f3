import Foundation
import STSCrypto
import STSTokenFormat

/// Decoder-key derivations per second through a PKCS#11 module beside the same derivations in
/// software, on one thread: what `stsvend key bench-hsm` reports (Specs/hsm.md).
public enum ModuleDerivationBenchmark {
    /// One measurement.
    public struct Result: Sendable {
        /// Derivations a second through the module (DKGA04, HMAC-SHA-256 in the module), and in software.
        public var modulePerSecond: Double, softwarePerSecond: Double
        /// DES computations a second through the module (DKGA02's part).
        public var moduleDESPerSecond: Double
        /// Median and 99th percentile of one module call, microseconds.
        public var p50: Double, p99: Double
    }

    /// Stores throw-away benchmark keys on the session's token and measures for `seconds` each.
    public static func run(session: PKCS11Session, seconds: Double) throws -> Result {
        let tag = UUID().uuidString.prefix(8)
        let raw: [UInt8] = (0..<20).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let key04 = try ModuleVendingKey.storeDKGA04(raw, label: "bench-dkga04-\(tag)", session: session)
        let key02 = try ModuleVendingKey.storeDKGA02(Array(raw.prefix(8)), label: "bench-dkga02-\(tag)", session: session)
        let software = try VendingKey(bytes: raw)
        func parameters(_ i: Int, _ dkga: KeyDerivationAlgorithm) throws -> DecoderKeyParameters {
            DecoderKeyParameters(derivation: dkga, pan: try MeterPAN(meterNumber: MeterPAN.meterNumber(serial: UInt64(i % 100_000 + 1)) ?? "01234567890"),
                                 supplyGroup: try SupplyGroupCode("123456"), tariffIndex: try TariffIndex(1), revision: try KeyRevisionNumber(1),
                                 keyType: .unique, baseDate: .y2014, encryption: .sta)
        }
        let pool04 = try (0..<1_000).map { try parameters($0, .dkga04) }
        let pool02 = try (0..<1_000).map { try parameters($0, .dkga02) }
        var latencies: [Double] = []
        latencies.reserveCapacity(1 << 16)
        func timed(_ body: (Int) throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds, end = start + UInt64(seconds * 1e9)
            var n = 0
            while DispatchTime.now().uptimeNanoseconds < end {
                for _ in 0..<64 { try body(n); n += 1 }
            }
            return Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let module = try timed { i in
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try key04.deriveDKGA04(pool04[i % pool04.count])
            if latencies.count < 1 << 16 { latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1_000) }
        }
        let des = try timed { i in _ = try key02.dkga02Encryption(pool02[i % pool02.count]) }
        let soft = try timed { i in _ = try DKGA04.derive(pool04[i % pool04.count], vendingKey: software) }
        let sorted = latencies.sorted()
        func pct(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return Result(modulePerSecond: module, softwarePerSecond: soft, moduleDESPerSecond: des, p50: pct(0.5), p99: pct(0.99))
    }
}
