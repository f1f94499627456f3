import ArgumentParser
import Foundation
import STSBenchmark

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure tokens/s and latency for issue and decode per DKGA+EA pair, and batch requests/s.",
        discussion: "Build with -c release for meaningful numbers. Each token derives its meter's decoder key. One core.")
    @Option(help: "Seconds per measurement.") var seconds: Double = 1.0
    @Option(help: "Only measurements whose name contains this text (e.g. 'DKGA04+EA11', 'decode', 'batch').") var filter: String = ""
    @Option(name: .customLong("random-tokens"), help: "Random 20-digit inputs to key into a meter to measure the acceptance rate (0: skip).")
    var randomTokens: Int = 0
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let results = try VendingBenchmark.run(seconds: seconds, filter: filter) { step in
                if !output.json { FileHandle.standardError.write(Data("measuring \(step)…\n".utf8)) }
            }
            var random: (accepted: Int, count: Int, seconds: Double)? = nil
            if randomTokens > 0 {
                if !output.json { FileHandle.standardError.write(Data("measuring \(randomTokens) random inputs…\n".utf8)) }
                random = try MeterBenchmark.randomInput(count: randomTokens)
            }
            if output.json {
                let items = results.map {
                    "{\"name\":\"\($0.name)\",\"per_second\":\(Int($0.perSecond)),\"mean_ns\":\(Int($0.meanNanoseconds)),\"p50_ns\":\(Int($0.p50Nanoseconds)),\"p99_ns\":\(Int($0.p99Nanoseconds))}"
                }
                let randomJSON = random.map { ",{\"name\":\"random 20-digit input\",\"count\":\($0.count),\"accepted\":\($0.accepted),\"per_second\":\(Int(Double($0.count) / $0.seconds))}" } ?? ""
                printLine("[" + items.joined(separator: ",") + randomJSON + "]")
                return
            }
            printLine("operation                                   ops/s   mean ns   p50 ns   p99 ns")
            for r in results {
                printLine(r.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                          + String(format: "%10.0f %9.0f %8.0f %8.0f", r.perSecond, r.meanNanoseconds, r.p50Nanoseconds, r.p99Nanoseconds))
            }
            if let random {
                let rate = Double(random.accepted) / Double(random.count)
                printLine("random 20-digit input: \(random.accepted) of \(random.count) accepted (\(String(format: "%.2e", rate)); CRC-16 bound 2^-16 = 1.53e-05), \(Int(Double(random.count) / random.seconds)) inputs/s")
            }
        }
    }
}
