import ArgumentParser
import Foundation
import STSAuditLog
import STSBenchmark

/// `stsvend station bench`.
struct StationBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure durable sales on SQLite (single and group-committed batch) and offline log verification.",
        discussion: "Use a release build (swift run -c release) for numbers you report. The default log of a million entries takes a few minutes to sell; --log-entries 100000 for a quick run.")
    @Option(help: "Folder for the benchmark station (created; removed afterwards).") var dir = NSTemporaryDirectory() + "stsvend-station-bench"
    @Option(help: "Single sales (one commit each).") var single = 1_000
    @Option(help: "Batch sales (at least enough for --log-entries).") var batch = 100_000
    @Option(help: "Entries the verified log holds at least (each batch sale adds one).") var logEntries = 1_000_000
    @Option(help: "Sales per committed group.") var group = 1_000
    @Flag(help: "Keep the benchmark station and its exported log (log.jsonl, bench.db.pub) to verify or inspect them.") var keep = false
    @Option(help: "Only measure verification, phase by phase, on this exported log (with --public-key).") var verifyLog: String?
    @Option(help: "The public key of --verify-log's station.") var publicKey: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        if let verifyLog {
            guard let publicKey else { throw ValidationError("--verify-log needs --public-key") }
            let key = try StationPublicKeyFile.parse(AuditInputFile.text(publicKey))
            let r = AuditBenchmark.run(log: try AuditInputFile.bytes(verifyLog), publicKey: key)
            if output.json {
                printLine(MeterView.json { w in
                    w.field("log_entries", r.entries); w.field("log_bytes", r.bytes); w.field("split_ns_per_entry", Int(r.splitNanoseconds))
                    w.field("hash_ns_per_entry", Int(r.hashNanoseconds)); w.field("parse_ns_per_entry", Int(r.parseNanoseconds))
                    w.field("lines_ns_per_entry", Int(r.linesNanoseconds)); w.field("link_ns_per_entry", Int(r.linkNanoseconds))
                    w.field("verify_entries_per_second", Int(r.entriesPerSecond)); w.field("verify_clean", r.clean)
                })
            } else {
                printLine("\(r.entries) entries, \(r.bytes / max(1, r.entries)) bytes each; one core: split \(Int(r.splitNanoseconds)) ns, SHA-256 \(Int(r.hashNanoseconds)) ns, strict JSON \(Int(r.parseNanoseconds)) ns; each line on its own \(Int(r.linesNanoseconds)) ns, the join \(Int(r.linkNanoseconds)) ns per entry")
                printLine("audit verify, every core: \(Int(r.entriesPerSecond)) entries/s (\(r.clean ? "clean" : "NOT clean"))")
            }
            return
        }
        try runStation {
            let folder = dir + "/\(getpid())"
            defer { if keep { printError("kept: \(folder)") } else { try? FileManager.default.removeItem(atPath: folder) } }
            let r = try StationBenchmark.run(folder: folder, singleSales: single, batchSales: batch, group: group, logEntries: logEntries) { printError($0) }
            if output.json {
                printLine(MeterView.json { w in
                    w.field("single_sales", r.singleSales); w.field("single_per_second", Int(r.singlePerSecond))
                    w.field("single_p50_us", Int(r.singleP50Microseconds)); w.field("single_p99_us", Int(r.singleP99Microseconds))
                    w.field("batch_sales", r.batchSales); w.field("batch_group", r.batchGroup); w.field("batch_per_second", Int(r.batchPerSecond))
                    w.field("log_entries", r.logEntries); w.field("verify_entries_per_second", Int(r.verifyEntriesPerSecond)); w.field("verify_clean", r.verifyClean)
                })
            } else {
                printLine("single sales  \(r.singleSales): \(Int(r.singlePerSecond)) sales/s, p50 \(Int(r.singleP50Microseconds)) µs, p99 \(Int(r.singleP99Microseconds)) µs")
                printLine("batch sales   \(r.batchSales) in groups of \(r.batchGroup): \(Int(r.batchPerSecond)) sales/s")
                printLine("audit verify  \(r.logEntries) entries: \(Int(r.verifyEntriesPerSecond)) entries/s (\(r.verifyClean ? "clean" : "NOT clean"))")
            }
        }
    }
}
