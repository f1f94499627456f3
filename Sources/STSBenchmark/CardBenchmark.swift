import Foundation
import STSCard

/// Card measurements through a reader: APDU round trips per second (one file read each) and a
/// full card read (select, serial, every file), the cost every card sale and insertion pays.
public struct CardBenchmark: Sendable {
    /// APDUs sent for the round-trip measurement.
    public var apdus: Int
    /// Seconds those APDUs took.
    public var seconds: Double
    /// Milliseconds of one full card read, the mean of 20.
    public var cardReadMilliseconds: Double

    /// APDU round trips per second.
    public var apdusPerSecond: Double { Double(apdus) / seconds }
    /// Milliseconds per APDU round trip.
    public var apduMilliseconds: Double { seconds * 1000 / Double(apdus) }

    /// Sends `count` (at least 1) purchase-file reads, then times 20 full card reads.
    public static func run<C: CardChannel>(_ session: inout CardSession<C>, count: Int) throws -> CardBenchmark {
        let count = max(1, count)
        _ = try session.open()
        let start = Date()
        for _ in 0..<count { _ = try session.read(.purchase) }
        let seconds = Date().timeIntervalSince(start)
        let reads = 20
        let t0 = Date()
        for _ in 0..<reads {
            _ = try session.open()
            for f in CardFile.allCases { _ = try session.read(f) }
        }
        return CardBenchmark(apdus: count, seconds: seconds, cardReadMilliseconds: Date().timeIntervalSince(t0) * 1000 / Double(reads))
    }
}
