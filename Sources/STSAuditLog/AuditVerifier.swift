import Crypto
import Dispatch
import Foundation
import STSBatch
import STSCrypto

/// Verifies an exported log offline, with nothing but the file, the station's public key and
/// (optionally) the vending keys and the head published at export (Specs/audit-log.md §5):
///
/// - every line is an entry whose bytes hash to its stated hash, and whose `prev` is the line
///   before's hash, with `seq` counting 1, 2, 3 … (so nothing altered, dropped, added or reordered);
/// - every line is strict JSON in the entry's fixed shape;
/// - the first entry names the station and its public key, which must be the one given;
/// - every checkpoint's signature verifies and seals the entry just before it, every entry is
///   sealed by a later checkpoint, and the log ends with an export sealed by a checkpoint;
/// - no meter received the same TID twice (on one base date);
/// - every sale balances: money paid plus credit carried in equals the deductions, the energy by
///   tariff block (each block's cost recomputed) and the credit carried out, and carried credit
///   flows unbroken from each sale to the next on the same account;
/// - with keys, every token decrypts under its meter's key to the entry's TID and units.
///
/// The log is read in windows of lines; the lines of a window are checked on their own on every
/// core, then joined in one pass (``AuditLink``). Every sum over values from the log is exact
/// (128-bit) or checked, so a crafted line is a problem at its line, never a crash.
public struct AuditVerifier: Sendable {
    public let publicKey: Curve25519.Signing.PublicKey
    public let keys: [String: VendingKey]?
    /// Lines checked together: bounds the memory a log of millions of (or empty) lines takes.
    static let windowLines = 1 << 16

    public init(publicKey: Curve25519.Signing.PublicKey, keys: [String: VendingKey]? = nil) {
        self.publicKey = publicKey
        self.keys = keys
    }

    /// Verifies a whole exported log (JSON lines). With `head`, the last line's hash must be it.
    public func verify(_ log: [UInt8], head: String? = nil) -> AuditReport {
        log.withUnsafeBufferPointer { verify($0, head: head) }
    }

    public func verify(_ log: UnsafeBufferPointer<UInt8>, head: String? = nil) -> AuditReport {
        var link = AuditLink(publicKey: publicKey)
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        var tapes = (0..<workers * 4).map { _ in JSONTape() }
        var lines: [Range<Int>] = []
        lines.reserveCapacity(Self.windowLines)
        var facts = [EntryFacts](repeating: EntryFacts(), count: Self.windowLines)
        var offset = 0
        var lineNumber = 0
        let keys = self.keys
        while offset < log.count {
            lines.removeAll(keepingCapacity: true)
            // Step 1: split at LF; a final piece after the last LF is a line only if not empty.
            while lines.count < Self.windowLines, offset < log.count, let base = log.baseAddress {
                if let hit = memchr(base + offset, 10, log.count - offset) {
                    let end = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                    lines.append(offset..<end)
                    offset = end + 1
                } else {
                    lines.append(offset..<log.count)
                    offset = log.count
                }
            }
            let first = lineNumber + 1
            lineNumber += lines.count
            // Step 2: each line on its own, in parallel; each chunk writes only its own slots.
            let chunks = max(1, min(lines.count / 1024, tapes.count))
            facts.withUnsafeMutableBufferPointer { out in
                tapes.withUnsafeMutableBufferPointer { tapeBuffer in
                    nonisolated(unsafe) let unsafeOut = out
                    nonisolated(unsafe) let unsafeTapes = tapeBuffer
                    nonisolated(unsafe) let log = log
                    let window = lines
                    DispatchQueue.concurrentPerform(iterations: chunks) { c in
                        let lo = window.count * c / chunks, hi = window.count * (c + 1) / chunks
                        for i in lo..<hi {
                            unsafeOut[i] = EntryFacts(line: first + i, bytes: UnsafeBufferPointer(rebasing: log[window[i]]),
                                                      keys: keys, tape: &unsafeTapes[c])
                        }
                    }
                }
            }
            // Step 3: the lines in order.
            for i in 0..<lines.count { link.add(facts[i]) }
        }
        return link.finish(head: head)
    }
}
