import Foundation
import STSStation

/// Email over SMTP (RFC 5321) to the resident's address: plain SMTP to a relay the operator
/// runs (no STARTTLS or AUTH here: point it at a local relay that does both).
public struct SMTPNotifier: Notifier {
    public let channel = "email"
    public let host: String
    public let port: Int
    public let from: String
    public var timeout: Double = 5

    public init(host: String, port: Int, from: String) {
        self.host = host; self.port = port; self.from = from
    }

    public func send(_ n: PendingNotification) throws {
        guard !n.email.isEmpty else { return }
        guard !from.contains("\r"), !from.contains("\n"), !n.email.contains("\r"), !n.email.contains("\n") else { throw NotifyError("bad address") }
        let c = try SMTPConnection(host: host, port: port, timeout: timeout)
        try c.expect(220)
        try c.command("EHLO stsvend", 250)
        try c.command("MAIL FROM:<\(from)>", 250)
        try c.command("RCPT TO:<\(n.email)>", 250)
        try c.command("DATA", 354)
        let text = AlertJSON.text(n.alert)
        let message = "From: \(from)\r\nTo: \(n.email)\r\nSubject: Meter \(n.alert.pan): \(n.alert.kind)\r\nMessage-ID: <alert-\(n.alert.id)@stsvend>\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text.replacingOccurrences(of: "\n.", with: "\n..") + "\r\n."
        try c.command(message, 250)
        try? c.command("QUIT", 221)
    }
}

/// A line-oriented SMTP connection with deadlines.
final class SMTPConnection {
    let fd: Int32
    var pending: [UInt8] = []

    init(host: String, port: Int, timeout: Double) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { throw NotifyError("cannot resolve \(host)") }
        defer { freeaddrinfo(result) }
        fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        guard fd >= 0 else { throw NotifyError("no socket") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { close(fd); throw NotifyError("cannot connect to \(host):\(port)") }
    }
    deinit { close(fd) }

    func command(_ line: String, _ code: Int) throws {
        let bytes = Array((line + "\r\n").utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { throw NotifyError("SMTP write failed") }
        try expect(code)
    }

    /// Reads a (possibly multi-line) reply and checks its code.
    func expect(_ code: Int) throws {
        while true {
            let line = try readLine()
            guard line.count >= 3, let got = Int(line.prefix(3)) else { throw NotifyError("SMTP: bad reply") }
            if line.count > 3, line[line.index(line.startIndex, offsetBy: 3)] == "-" { continue }
            guard got == code else { throw NotifyError("SMTP answered \(line.prefix(80))") }
            return
        }
    }

    func readLine() throws -> String {
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            if let i = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<i], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                pending.removeFirst(i + 1)
                return line
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 512, 0) }
            guard n > 0 else { throw NotifyError("SMTP connection closed") }
            pending += chunk[0..<n]
            guard pending.count < 64 * 1024 else { throw NotifyError("SMTP reply too long") }
        }
    }
}
