import Foundation
import STSFuzzTargets

#if FUZZING
// Built with `-sanitize=fuzzer,address -DFUZZING`: libFuzzer drives the target named by
// STSFUZZ_TARGET. SwiftPM calls the executable's entry point `stsfuzz_main`; it hands over to
// libFuzzer's driver.
nonisolated(unsafe) let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["STSFUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("STSFUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(64)
    }
    return t
}()

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("stsfuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = fuzzTarget
    var count = argc
    var args = argv
    return LLVMFuzzerRunDriver(&count, &args) { data, size in
        fuzzTarget.run(size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : [])
        return 0
    }
}
#else
/// `stsfuzz TARGET [--seconds N] [--seed S] [--corpus DIR]`: the property harness. Replays the
/// target's seeds and crashers, then runs mutations of them for N seconds; a crash stops the
/// process (a Swift trap), which is the failure CI looks for.
@main
struct StsFuzz {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        func option(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
            defer { args.removeSubrange(i...(i + 1)) }
            return args[i + 1]
        }
        let seconds = Double(option("--seconds") ?? "10") ?? 10
        let seed = UInt64(option("--seed") ?? "") ?? UInt64(Date().timeIntervalSince1970)
        let corpus = option("--corpus") ?? "Fixtures/fuzz"
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: stsfuzz TARGET [--seconds N] [--seed S] [--corpus DIR]; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
            exit(64)
        }
        let folder = corpus + "/" + target.rawValue
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder).sorted()) ?? []
        let seeds = files.compactMap { FileManager.default.contents(atPath: folder + "/" + $0).map { [UInt8]($0) } }
        for s in seeds { target.run(s) }
        var mutator = Mutator(seed: seed, seeds: seeds)
        let start = Date()
        var runs = 0
        while Date().timeIntervalSince(start) < seconds {
            for _ in 0..<64 { target.run(mutator.input()); runs += 1 }
        }
        print("\(target.rawValue): \(seeds.count) seeds replayed, \(runs) mutated inputs in \(Int(seconds)) s (seed \(seed)), no crash")
    }
}
#endif
