#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import STSCrypto

/// Runs a whole batch file: streams requests in, results out (in input order), and shows progress.
///
/// The input is read in windows of a few megabytes; the complete lines of a window are split
/// between the cores, each with its own reader and result buffer, and the buffers are written
/// in order. Results go to `OUT.partial` first and are renamed to `OUT` after an fsync, so a
/// file named `OUT` is always a complete batch. The results file is created with mode 0600:
/// tokens are bearer credit.
public enum BatchRunner {
    /// What a finished batch did: how many requests succeeded and failed, and how long it took.
    public struct Summary: Sendable {
        /// Requests that produced a token or decoded result.
        public var succeeded = 0
        /// Requests answered with an error line (the command then exits 2).
        public var failed = 0
        /// Seconds taken, from the start until the results file was renamed into place.
        public var seconds = 0.0
        /// Every request line answered.
        public var total: Int { succeeded + failed }
        /// An empty summary.
        public init() {}
    }

    /// The longest request line read; longer lines get a `bad-request` result.
    public static let maximumLineBytes = 1 << 20
    static let windowBytes = 4 << 20

    /// Runs one batch: reads the keys file (owner-only), the requests (`-` for standard input) and
    /// writes one result per request, in input order, to `outputPath` via `OUT.partial`, fsync and
    /// rename. `workers` 0 uses up to 8 cores; `showProgress` draws a progress line on standard
    /// error; `now` is the clock for requests with neither `tid` nor `issued_at`. Throws
    /// ``BatchError`` when a file cannot be used; failed requests are counted, not thrown.
    public static func run(keysPath: String, inputPath: String, outputPath: String, allowUnverified: Bool = false,
                           workers: Int = 0, showProgress: Bool, now: @escaping @Sendable () -> Int64) throws -> Summary {
        let keys = try SecretFile.vendingKeys(keysPath)
        let input = inputPath == "-" ? 0 : open(inputPath, O_RDONLY)
        guard input >= 0 else { throw BatchError.io("cannot open \(inputPath): \(String(cString: strerror(errno)))") }
        defer { if input != 0 { close(input) } }
        var inputSize = 0
        var st = stat()
        if fstat(input, &st) == 0, st.st_mode & S_IFMT == S_IFREG { inputSize = Int(st.st_size) }

        let partial = outputPath + ".partial"
        unlink(partial)
        let output = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard output >= 0 else { throw BatchError.io("cannot create \(partial): \(String(cString: strerror(errno)))") }
        fchmod(output, 0o600)
        var outputOpen = true
        defer { if outputOpen { close(output); unlink(partial) } }

        let workerCount = workers > 0 ? workers : max(1, min(8, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        var lanes = (0..<workerCount).map { _ in Lane(vending: BatchVending(keys: keys, now: now, allowUnverified: allowUnverified)) }
        var summary = Summary()
        let start = monotonicSeconds()
        var lastProgress = start
        var consumed = 0
        var lineNumber = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(windowBytes + maximumLineBytes)
        var skippingLongLine = false
        var lines: [Line] = []

        func write(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(output, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BatchError.io("cannot write \(partial): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }

        func longLineResult(number: Int) -> [UInt8] {
            var w = JSONLineWriter()
            w.begin(); w.null("id"); w.field("ok", false)
            w.object("error") { e in
                e.field("code", "bad-request")
                e.field("message", "line \(number): a request line is longer than \(maximumLineBytes) bytes")
            }
            w.end()
            summary.failed += 1
            return w.bytes
        }

        var atEnd = false
        while !atEnd {
            // Fill the window.
            let kept = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: windowBytes))
            let n = buffer[kept...].withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                buffer.removeLast(windowBytes)
                if errno == EINTR { continue }
                throw BatchError.io("cannot read \(inputPath): \(String(cString: strerror(errno)))")
            }
            buffer.removeLast(windowBytes - n)
            consumed += n
            atEnd = n == 0
            // Complete lines (and at the end, the last line without its LF).
            lines.removeAll(keepingCapacity: true)
            var lineStart = 0
            var i = buffer.startIndex
            buffer.withUnsafeBufferPointer { b in
                while i < b.count {
                    guard let base = b.baseAddress,
                          let hit = memchr(base + i, 10, b.count - i) else { break }
                    let end = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                    lineNumber += 1
                    if skippingLongLine {
                        skippingLongLine = false
                    } else if end - lineStart > maximumLineBytes {
                        lines.append(Line(range: 0..<0, number: lineNumber, tooLong: true))
                    } else {
                        lines.append(Line(range: lineStart..<end, number: lineNumber, tooLong: false))
                    }
                    lineStart = end + 1
                    i = end + 1
                }
            }
            if atEnd, lineStart < buffer.count, !skippingLongLine {
                lineNumber += 1
                lines.append(Line(range: lineStart..<buffer.count, number: lineNumber, tooLong: buffer.count - lineStart > maximumLineBytes))
                lineStart = buffer.count
            }
            try process(lines, in: buffer, lanes: &lanes, summary: &summary, write: write)
            // What is left is the start of a line still being read.
            buffer.removeFirst(lineStart)
            if skippingLongLine {
                // Still inside an over-long line already answered: drop it up to its newline.
                buffer.removeAll(keepingCapacity: true)
            } else if buffer.count > maximumLineBytes {
                // A megabyte without a newline is not a request: answer it now (once), drop the rest of it.
                try write(longLineResult(number: lineNumber + 1))
                buffer.removeAll(keepingCapacity: true)
                skippingLongLine = true
            }
            if showProgress {
                let t = monotonicSeconds()
                if t - lastProgress > 0.2 || atEnd {
                    lastProgress = t
                    progress(summary, consumed: consumed, size: inputSize, elapsed: t - start)
                }
            }
        }
        guard fsync(output) == 0 else { throw BatchError.io("cannot sync \(partial): \(String(cString: strerror(errno)))") }
        close(output)
        outputOpen = false
        guard rename(partial, outputPath) == 0 else {
            unlink(partial)
            throw BatchError.io("cannot rename \(partial) to \(outputPath): \(String(cString: strerror(errno)))")
        }
        summary.seconds = monotonicSeconds() - start
        if showProgress { progress(summary, consumed: consumed, size: inputSize, elapsed: summary.seconds, final: true) }
        return summary
    }

    /// One request line of the current window.
    struct Line {
        var range: Range<Int>
        var number: Int
        var tooLong: Bool
    }

    /// One core's share: its own reader (tape, random source) and result buffer.
    struct Lane {
        var vending: BatchVending
        var out = JSONLineWriter()
        var succeeded = 0
        var failed = 0
    }

    /// Processes a window's lines on every lane at once and writes the results in order.
    static func process(_ lines: [Line], in buffer: [UInt8], lanes: inout [Lane], summary: inout Summary,
                        write: ([UInt8]) throws -> Void) throws {
        guard !lines.isEmpty else { return }
        // Small windows are not worth waking other cores for.
        let used = lines.count < 256 ? 1 : lanes.count
        buffer.withUnsafeBufferPointer { whole in
            lanes.withUnsafeMutableBufferPointer { laneBuffer in
                nonisolated(unsafe) let all = whole
                nonisolated(unsafe) let lanePointer = laneBuffer
                DispatchQueue.concurrentPerform(iterations: used) { k in
                    let lo = lines.count * k / used, hi = lines.count * (k + 1) / used
                    for line in lines[lo..<hi] {
                        lanePointer[k].handle(line, all)
                    }
                }
            }
        }
        for k in 0..<used {
            try write(lanes[k].out.bytes)
            lanes[k].out.reset()
            summary.succeeded += lanes[k].succeeded
            summary.failed += lanes[k].failed
            lanes[k].succeeded = 0
            lanes[k].failed = 0
        }
    }

    static func progress(_ s: Summary, consumed: Int, size: Int, elapsed: Double, final: Bool = false) {
        let rate = elapsed > 0 ? Double(s.total) / elapsed : 0
        let percent = size > 0 ? " \(min(100, consumed * 100 / size))%" : ""
        let line = "\r\u{1B}[K\(s.total) requests\(percent), \(s.failed) failed, \(Int(rate)) req/s" + (final ? "\n" : "")
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

extension BatchRunner.Lane {
    mutating func handle(_ line: BatchRunner.Line, _ all: UnsafeBufferPointer<UInt8>) {
        if line.tooLong {
            out.begin(); out.null("id"); out.field("ok", false)
            out.object("error") { e in
                e.field("code", "bad-request")
                e.field("message", "line \(line.number): a request line is longer than \(BatchRunner.maximumLineBytes) bytes")
            }
            out.end()
            failed += 1
            return
        }
        var lo = line.range.lowerBound, hi = line.range.upperBound
        while hi > lo, all[hi - 1] == 13 || all[hi - 1] == 32 || all[hi - 1] == 9 { hi -= 1 }
        while lo < hi, all[lo] == 32 || all[lo] == 9 { lo += 1 }
        guard lo < hi else { return }
        if vending.process(line: UnsafeBufferPointer(rebasing: all[lo..<hi]), lineNumber: line.number, into: &out) {
            succeeded += 1
        } else {
            failed += 1
        }
    }
}
