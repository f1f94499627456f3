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
/// core, then joined in one pass (`AuditLink`). Every sum over values from the log is exact
/// (128-bit) or checked, so a crafted line is a problem at its line, never a crash.
public struct AuditVerifier: Sendable {
    /// The station's Ed25519 public key, obtained from the station (`DB.pub`), never from the log.
    public let publicKey: Curve25519.Signing.PublicKey
    /// The vending keys by name (the keys file), to decrypt and check every token; nil skips the
    /// token checks.
    public let keys: [String: VendingKey]?
    /// True for one chain of a shared store (many stations selling to the same accounts): an
    /// account's carried credit and a reversal of another station's sale cannot be judged from one
    /// chain, so those checks are left to ``ChainUnion``, which sees every station's chain.
    public let sharedAccounts: Bool

    /// A verifier for one station's key, with or without the vending keys.
    public init(publicKey: Curve25519.Signing.PublicKey, keys: [String: VendingKey]? = nil, sharedAccounts: Bool = false) {
        self.publicKey = publicKey
        self.keys = keys
        self.sharedAccounts = sharedAccounts
    }

    /// Verifies a whole exported log (JSON lines). With `head`, the last line's hash must be it.
    public func verify(_ log: [UInt8], head: String? = nil) -> AuditReport {
        log.withUnsafeBufferPointer { verify($0, head: head) }
    }

    /// Verifies a log held in memory (read or mapped from a file) without copying it. With `head`,
    /// the last line's hash must be it, else an `unsealed` problem.
    public func verify(_ log: UnsafeBufferPointer<UInt8>, head: String? = nil) -> AuditReport {
        var link = AuditLink(publicKey: publicKey)
        link.sharedAccounts = sharedAccounts
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let reader = WindowReader(log: log, keys: keys, chunks: workers * 4)
        // Two windows in flight: while one is joined on this thread, the next is read on the others.
        var windows = [Window(), Window()]
        var current = 0
        var offset = reader.split(from: 0, into: &windows[current])
        reader.read(&windows[current], firstLine: 1)
        while windows[current].count > 0 {
            let next = 1 - current
            offset = reader.split(from: offset, into: &windows[next])
            if windows[next].count == 0 {
                // The last window: nothing to read meanwhile.
                for i in 0..<windows[current].count { link.add(windows[current].facts[i]) }
                break
            }
            let firstLine = windows[current].firstLine + windows[current].count
            let group = DispatchGroup()
            windows.withUnsafeMutableBufferPointer { w in
                nonisolated(unsafe) let pending = w.baseAddress! + next
                DispatchQueue.global().async(group: group) { reader.read(&pending.pointee, firstLine: firstLine) }
                // Step 3, the lines in order, overlapping the next window's step 2.
                for i in 0..<w[current].count { link.add(w[current].facts[i]) }
                group.wait()
            }
            current = next
        }
        return link.finish(head: head)
    }
}

/// The lines of one window and what each said on its own.
struct Window {
    var lines: [Range<Int>] = []
    var facts: [EntryFacts] = []
    var firstLine = 1
    var count: Int { lines.count }
}

/// Splits a log into windows of lines and reads each line on its own (Specs/audit-log.md §5
/// steps 1 and 2), a window's lines spread over every core.
final class WindowReader: @unchecked Sendable {
    let log: UnsafeBufferPointer<UInt8>
    let keys: [String: VendingKey]?
    /// One tape per chunk of a window; a chunk runs on one thread at a time.
    var tapes: [JSONTape]
    let chunks: Int
    /// Lines per window: enough to keep every core busy, few enough to bound memory.
    static let windowLines = 8_192

    init(log: UnsafeBufferPointer<UInt8>, keys: [String: VendingKey]?, chunks: Int) {
        self.log = log
        self.keys = keys
        self.chunks = chunks
        tapes = []
    }

    /// Step 1: the next window's lines from `offset`, split at LF; a final piece after the last
    /// LF is a line only if it is not empty. Returns where the window ended.
    func split(from start: Int, into window: inout Window) -> Int {
        window.lines.removeAll(keepingCapacity: true)
        var offset = start
        guard let base = log.baseAddress else { return offset }
        while window.lines.count < Self.windowLines, offset < log.count {
            if let hit = memchr(base + offset, 10, log.count - offset) {
                let end = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                window.lines.append(offset..<end)
                offset = end + 1
            } else {
                window.lines.append(offset..<log.count)
                offset = log.count
            }
        }
        return offset
    }

    /// Step 2 for every line of the window, in parallel; each chunk writes only its own slots.
    func read(_ window: inout Window, firstLine: Int) {
        window.firstLine = firstLine
        let lines = window.lines
        if window.facts.count < lines.count { window.facts = [EntryFacts](repeating: EntryFacts(), count: lines.count) }
        let chunks = max(1, min(lines.count / 512, self.chunks))
        while tapes.count < chunks { tapes.append(JSONTape()) }
        let log = self.log, keys = self.keys
        if chunks == 1 {
            // A small window is read on this thread: waking others costs more than it saves.
            for i in 0..<lines.count {
                window.facts[i] = EntryFacts(line: firstLine + i, bytes: UnsafeBufferPointer(rebasing: log[lines[i]]), keys: keys, tape: &tapes[0])
            }
            return
        }
        window.facts.withUnsafeMutableBufferPointer { out in
            tapes.withUnsafeMutableBufferPointer { tapeBuffer in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let tapes = tapeBuffer
                nonisolated(unsafe) let log = log
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = lines.count * c / chunks, hi = lines.count * (c + 1) / chunks
                    for i in lo..<hi {
                        out[i] = EntryFacts(line: firstLine + i, bytes: UnsafeBufferPointer(rebasing: log[lines[i]]), keys: keys, tape: &tapes[c])
                    }
                }
            }
        }
    }
}

extension AuditVerifier {
    /// For the benchmark: seconds for step 2 (every line on its own) and step 3 (the join),
    /// each on one core.
    package func phaseSeconds(_ log: [UInt8]) -> (lines: Double, link: Double) {
        log.withUnsafeBufferPointer { b in
            let reader = WindowReader(log: b, keys: keys, chunks: 1)
            var window = Window()
            var offset = 0
            var all: [EntryFacts] = []
            var linesSeconds = 0.0
            var tape = JSONTape()
            while offset < b.count {
                offset = reader.split(from: offset, into: &window)
                all.reserveCapacity(all.count + window.lines.count)
                let t = DispatchTime.now().uptimeNanoseconds
                for r in window.lines {
                    all.append(EntryFacts(line: all.count + 1, bytes: UnsafeBufferPointer(rebasing: b[r]), keys: keys, tape: &tape))
                }
                linesSeconds += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            var link = AuditLink(publicKey: publicKey)
        link.sharedAccounts = sharedAccounts
            for f in all { link.add(f) }
            _ = link.finish(head: nil)
            return (linesSeconds, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
    }
}
