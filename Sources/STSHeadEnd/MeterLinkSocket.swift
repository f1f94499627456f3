import Foundation
import STSDLMS

/// One TCP connection to a meter's wrapper port, blocking with deadlines (the head-end runs
/// many on a thread pool). Every read is bounded by the wrapper's length field.
final class MeterLinkSocket {
    let fd: Int32
    let clientSAP: UInt16
    /// Seconds one exchange may take in all (not per read: a meter trickling bytes is cut off).
    let timeout: Double
    var buffer: [UInt8] = []

    /// Connects within `timeout` seconds.
    init(host: String, port: Int, clientSAP: UInt16, timeout: Double) throws(DLMSError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { throw .transport("cannot resolve \(host)") }
        defer { freeaddrinfo(result) }
        let s = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard s >= 0 else { throw .transport("no socket") }
        let flags = fcntl(s, F_GETFL, 0)
        _ = fcntl(s, F_SETFL, flags | O_NONBLOCK)
        if connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { close(s); throw .transport("cannot connect to \(host):\(port): \(String(cString: strerror(errno)))") }
            var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            guard poll(&p, 1, Int32(timeout * 1000)) == 1, getsockopt(s, SOL_SOCKET, SO_ERROR, &soError, &len) == 0, soError == 0 else {
                close(s); throw .transport("cannot connect to \(host):\(port) within \(timeout) s")
            }
        }
        _ = fcntl(s, F_SETFL, flags)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        fd = s
        self.clientSAP = clientSAP
        self.timeout = timeout
    }

    deinit { close(fd) }

    /// Sends one APDU and returns the meter's answering APDU.
    func exchange(_ apdu: [UInt8]) throws(DLMSError) -> [UInt8] {
        let frame = WrapperFrame(source: clientSAP, destination: 1, apdu: apdu).encoded
        var sent = 0
        while sent < frame.count {
            let n = frame[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw .transport("the meter closed the connection") }
            sent += n
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        while true {
            if let f = try WrapperFrame.take(from: &buffer) {
                guard f.source == 1, f.destination == clientSAP else { throw .malformed("frame for wPort \(f.destination) from \(f.source)") }
                return f.apdu
            }
            // Wait for bytes only as long as the exchange has left.
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { throw .transport("no whole answer from the meter in \(timeout) s") }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(max(1, (deadline - now) / 1_000_000)))
            if ready == 0 || (ready < 0 && errno == EINTR) { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 4096, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw .transport(n == 0 ? "the meter closed the connection" : "no answer from the meter in time") }
            buffer += chunk[0..<n]
            guard buffer.count <= WrapperFrame.headerSize + WrapperFrame.maximumAPDU else { throw .tooLarge("frame") }
        }
    }
}
