#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import STSCrypto

/// Runs a whole batch file: streams requests in, results out, and shows progress.
///
/// Results go to `OUT.partial` first and are renamed to `OUT` after an fsync, so a file named
/// `OUT` is always a complete batch. The results file is created with mode 0600: tokens are
/// bearer credit.
public enum BatchRunner {
    public struct Summary: Sendable {
        public var succeeded = 0
        public var failed = 0
        public var seconds = 0.0
        public var total: Int { succeeded + failed }
        public init() {}
    }

    public static func run(keysPath: String, inputPath: String, outputPath: String, allowUnverified: Bool = false,
                           showProgress: Bool, now: @escaping () -> Int64) throws -> Summary {
        let keys = try SecretFile.vendingKeys(keysPath)
        var vending = BatchVending(keys: keys, now: now, allowUnverified: allowUnverified)
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

        var summary = Summary()
        let start = monotonicSeconds()
        var lastProgress = start
        var consumed = 0
        var writer = JSONLineWriter()
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let maximumLineBytes = 1 << 20
        var skippingLongLine = false

        func flush() throws {
            let bytes = writer.bytes
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BatchError.io("cannot write \(partial): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
            writer.reset()
        }

        func rejectLongLine() {
            writer.begin(); writer.raw("id", .null); writer.field("ok", false)
            writer.object("error") { w in
                w.field("code", "bad-request")
                w.field("message", "a request line is longer than \(maximumLineBytes) bytes")
            }
            writer.end()
            summary.failed += 1
        }

        func handle(_ line: ArraySlice<UInt8>) {
            var l = line
            while let last = l.last, last == 13 || last == 32 || last == 9 { l = l.dropLast() }
            while let first = l.first, first == 32 || first == 9 { l = l.dropFirst() }
            guard !l.isEmpty else { return }
            let ok = l.withUnsafeBufferPointer { vending.process(line: $0, into: &writer) }
            if ok { summary.succeeded += 1 } else { summary.failed += 1 }
        }

        while true {
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BatchError.io("cannot read \(inputPath): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            consumed += n
            var lineStart = 0
            for i in 0..<n where chunk[i] == 10 {
                if !skippingLongLine && pending.count + (i - lineStart) > maximumLineBytes {
                    // Over the limit once the carried-over part is counted too.
                    pending.removeAll(keepingCapacity: false)
                    rejectLongLine()
                    lineStart = i + 1
                    continue
                }
                if skippingLongLine {
                    // The rest of an over-long line is dropped up to its newline.
                    skippingLongLine = false
                    lineStart = i + 1
                    continue
                }
                if pending.isEmpty {
                    handle(chunk[lineStart..<i])
                } else {
                    pending.append(contentsOf: chunk[lineStart..<i])
                    handle(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
                lineStart = i + 1
            }
            if !skippingLongLine { pending.append(contentsOf: chunk[lineStart..<n]) }
            if pending.count > maximumLineBytes {
                // One request is a few hundred bytes; a megabyte without a newline is not a request.
                pending.removeAll(keepingCapacity: false)
                rejectLongLine()
                skippingLongLine = true
            }
            try flush()
            if showProgress {
                let t = monotonicSeconds()
                if t - lastProgress > 0.2 {
                    lastProgress = t
                    progress(summary, consumed: consumed, size: inputSize, elapsed: t - start)
                }
            }
        }
        if !pending.isEmpty && !skippingLongLine { handle(pending[...]) }
        try flush()
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
