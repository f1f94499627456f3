import Crypto
import Dispatch
import STSAuditLog
import STSSupport

/// Where the time of `audit verify` goes on one log, phase by phase on one core, then the
/// whole verification on every core (best of `rounds`).
public enum AuditBenchmark {
    /// One log's measurements: per-line cost of each verification phase, and whole-log throughput.
    public struct Result: Sendable {
        /// Lines (entries) in the log measured.
        public var entries: Int
        /// Size of the log in bytes.
        public var bytes: Int
        /// Nanoseconds per line on one core.
        public var splitNanoseconds: Double
        /// SHA-256 of each line's hashed part (everything before `,"hash":"`), nanoseconds per line.
        public var hashNanoseconds: Double
        /// Strict JSON parsing of each line on the tape reader, nanoseconds per line.
        public var parseNanoseconds: Double
        /// Step 2 (each line on its own: layout, hash, strict JSON, fields) and step 3 (the join), one core.
        public var linesNanoseconds: Double
        /// Step 3 of the verifier (joining the lines: sequence, hash chain, checkpoints, sales), nanoseconds per line.
        public var linkNanoseconds: Double
        /// The whole verification, every core: entries per second, and whether the log was clean.
        public var entriesPerSecond: Double
        /// Whether the verifier found the log clean (no problem reported).
        public var clean: Bool
    }

    /// Measures `log`, its checkpoints checked with the station's `publicKey`: each phase once on one core, then
    /// the whole verification on every core, best of `rounds`.
    public static func run(log: [UInt8], publicKey: Curve25519.Signing.PublicKey, rounds: Int = 3) -> Result {
        func seconds(_ body: () -> Void) -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        var lines: [Range<Int>] = []
        let split = seconds {
            var start = 0
            for i in log.indices where log[i] == 10 {
                lines.append(start..<i)
                start = i + 1
            }
        }
        var sink = 0
        let hash = log.withUnsafeBufferPointer { b in
            seconds {
                for r in lines where r.count > 75 {
                    let d = LogDigest(hashing: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[r.lowerBound..<(r.upperBound - 75)])))
                    sink &+= d.hashValue & 1
                }
            }
        }
        var tape = JSONTape()
        let parse = log.withUnsafeBufferPointer { b in
            seconds {
                for r in lines {
                    if (try? tape.parse(UnsafeBufferPointer(rebasing: b[r]))) != nil { sink &+= tape.count }
                }
            }
        }
        let verifier = AuditVerifier(publicKey: publicKey)
        let phases = verifier.phaseSeconds(log)
        var best = Double.infinity
        var clean = false
        for _ in 0..<max(1, rounds) {
            best = min(best, seconds { clean = verifier.verify(log).isClean })
        }
        if sink == 42 { print("") }
        let n = Double(max(1, lines.count))
        return Result(entries: lines.count, bytes: log.count, splitNanoseconds: split * 1e9 / n, hashNanoseconds: hash * 1e9 / n,
                      parseNanoseconds: parse * 1e9 / n, linesNanoseconds: phases.lines * 1e9 / n, linkNanoseconds: phases.link * 1e9 / n, entriesPerSecond: Double(lines.count) / best, clean: clean)
    }
}
