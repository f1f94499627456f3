import Foundation
import STSTestFixtures
import Testing

extension CommandLineSuites {
    /// The benchmarks run to the end (their numbers are measured in release builds, not here).
    @Suite(.serialized)
    struct BenchCommandLineTests {
        @Test("token bench: the meter and simulator measurements complete and report every row")
        func tokenBench() throws {
            let meter = try CommandLine.run(["token", "bench", "--seconds", "0.02", "--filter", "meter", "--json"])
            #expect(meter.status == 0 && meter.stdout.contains("meter decode+apply credit, EA11"), "\(meter.stderr)")
            let simulator = try CommandLine.run(["token", "bench", "--seconds", "0.02", "--filter", "simulator", "--json"])
            #expect(simulator.status == 0 && simulator.stdout.contains("simulator entry"), "\(simulator.stderr)")
        }
    }
}
