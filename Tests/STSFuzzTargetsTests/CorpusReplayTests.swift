import Foundation
import STSFuzzTargets
import STSTestFixtures
import Testing

/// Every seed and every crasher ever found in `Fixtures/fuzz/` runs through its target on every
/// test run, then a fixed-seed batch of mutations: what the fuzzers found stays found.
struct CorpusReplayTests {
    static func corpus(_ target: FuzzTarget) -> [(String, [UInt8])] {
        let folder = PublicVectors.root.appendingPathComponent("Fixtures/fuzz/\(target.rawValue)")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()) ?? []
        return files.compactMap { name in
            FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).map { (name, [UInt8]($0)) }
        }
    }

    @Test("each target has seeds, and every seed and regression runs without a crash", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) {
        let files = Self.corpus(target)
        #expect(!files.isEmpty, "Fixtures/fuzz/\(target.rawValue) holds the target's seeds")
        for (_, bytes) in files { target.run(bytes) }
    }

    @Test("a fixed-seed batch of mutations runs without a crash", arguments: FuzzTarget.allCases)
    func mutations(_ target: FuzzTarget) {
        var mutator = Mutator(seed: 20_261_201, seeds: Self.corpus(target).map(\.1))
        for _ in 0..<(target == .auditLine || target == .meterState ? 300 : 3_000) { target.run(mutator.input()) }
    }
}
