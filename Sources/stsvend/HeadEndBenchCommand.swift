import ArgumentParser
import Foundation
import STSHeadEndBenchmark

/// `stsvend meter bench`: the head-end against a simulated fleet on this machine.
struct HeadEndBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the head-end over DLMS/COSEM: read, deliver a token to and switch the relay of every meter of a simulated fleet.",
        discussion: "Use a release build. The fleet runs in this process on loopback, sharing the cores with the head-end.")
    @Option(help: "Simulated meters.") var count = 1000
    @Option(help: "Meters the head-end talks to at once.") var concurrency = 64
    @Option(help: "Folder for the benchmark (created; removed afterwards).") var dir = NSTemporaryDirectory() + "stsvend-headend-bench"
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count takes 1 to 10000") }
        guard (1...512).contains(concurrency) else { throw ValidationError("--concurrency takes 1 to 512") }
    }

    func run() throws {
        try runStation {
            let folder = dir + "/\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let r = try HeadEndBenchmark.run(folder: folder, count: count, concurrency: concurrency) { printError($0) }
            if output.json {
                printLine(MeterView.json { w in
                    w.field("meters", r.meters); w.field("concurrency", r.concurrency)
                    w.array("rounds") { a in
                        for x in r.rounds {
                            a.element { e in
                                e.field("name", x.name); e.field("meters", x.meters); e.field("failed", x.failed)
                                e.field("seconds", String(format: "%.3f", x.seconds)); e.field("p50_ms", String(format: "%.1f", x.p50 * 1000))
                                e.field("p99_ms", String(format: "%.1f", x.p99 * 1000))
                                if let q = x.endToEndP99 { e.field("sale_to_meter_p99_ms", String(format: "%.1f", q * 1000)) }
                            }
                        }
                    }
                })
            } else {
                printLine("\(r.meters) meters, \(r.concurrency) at a time (set-up \(String(format: "%.1f", r.setupSeconds)) s)")
                for x in r.rounds {
                    printLine(x.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                              + String(format: " %5d meters %3d failed  %6.2f s  per meter p50 %6.1f ms p99 %6.1f ms", x.meters, x.failed, x.seconds, x.p50 * 1000, x.p99 * 1000)
                              + (x.endToEndP99.map { String(format: "  sale→meter p99 %.0f ms", $0 * 1000) } ?? ""))
                }
            }
        }
    }
}
