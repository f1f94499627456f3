import Foundation
import STSCard

/// Our card application as a virtual card behind vsmartcard's vpcd reader driver: it connects
/// to vpcd's TCP port, so clients reach it through the real pcscd and libpcsclite.
///
/// The vpcd protocol: every message is a 2-byte big-endian length and a payload. A 1-byte
/// payload is a control code (00 power off, 01 power on, 02 reset, 04 send the ATR, answered
/// with the ATR); anything longer is a command APDU, answered with the response APDU. Closing
/// the socket is a card removal.
public final class VirtualCardEmulator {
    let imagePath: String
    let host: String
    let port: UInt16
    var card: CardApplication

    /// An emulator for the card stored at `imagePath` (created blank, with `serial` or a random one,
    /// when missing), to serve vpcd at `host`:`port`. Nothing connects until
    /// ``run(connectSeconds:pullAfter:shouldStop:)``.
    public init(imagePath: String, host: String = "127.0.0.1", port: UInt16 = 35963, serial: [UInt8]? = nil) throws {
        self.imagePath = imagePath
        self.host = host
        self.port = port
        card = CardApplication(image: try CardImageFile.loadOrCreate(imagePath, serial: serial))
    }

    /// The ATR: T=0 and T=1, with the 8-byte card serial as the historical bytes.
    public var atr: [UInt8] {
        var atr: [UInt8] = [0x3B, 0x88, 0x80, 0x01] + card.image.serial
        atr.append(atr.dropFirst().reduce(0, ^))  // TCK: XOR of T0 … the last historical byte
        return atr
    }

    /// Connects (retrying for up to `connectSeconds` while pcscd starts) and serves until vpcd
    /// closes the connection or `shouldStop` returns true.
    /// `pullAfter` (tests) drops the connection, like a card pulled from the reader, after that
    /// many APDUs.
    public func run(connectSeconds: Double = 10, pullAfter: Int? = nil, shouldStop: @escaping () -> Bool = { false }) throws {
        let fd = try connect(deadline: Date().addingTimeInterval(connectSeconds))
        defer { close(fd) }
        var apdus = 0
        while !shouldStop() {
            guard let message = readFrame(fd) else { return }
            if message.count == 1 {
                switch message[0] {
                case 0x00, 0x01, 0x02: card.reset()
                case 0x04: guard writeFrame(fd, atr) else { return }
                default: break
                }
                continue
            }
            if let pullAfter, apdus >= pullAfter { return }
            apdus += 1
            let before = card.image
            let response = CommandAPDU(bytes: message).map { card.process($0) } ?? ResponseAPDU(status: .wrongLength)
            // Card memory is written before the card answers, as an EEPROM commit would be.
            if card.image != before { try CardImageFile.save(card.image, to: imagePath) }
            guard writeFrame(fd, response.bytes) else { return }
        }
    }

    func connect(deadline: Date) throws -> Int32 {
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw CardImageFile.Failure.io("cannot create a socket") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &address.sin_addr)
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc == 0 {
                // Without these, Nagle's algorithm and delayed ACKs cost ~40 ms per APDU.
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            close(fd)
            guard Date() < deadline else {
                throw CardImageFile.Failure.io("cannot reach the vpcd reader at \(host):\(port): is pcscd running with vsmartcard-vpcd installed?")
            }
            usleep(100_000)
        }
    }

    func readFrame(_ fd: Int32) -> [UInt8]? {
        guard let header = readExactly(fd, 2) else { return nil }
        let length = Int(header[0]) << 8 | Int(header[1])
        return length == 0 ? [] : readExactly(fd, length)
    }

    func readExactly(_ fd: Int32, _ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_QUICKACK, &one, socklen_t(MemoryLayout<Int32>.size))
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r <= 0 {
                if r < 0 && errno == EINTR { continue }
                return nil
            }
            got += r
        }
        return out
    }

    func writeFrame(_ fd: Int32, _ payload: [UInt8]) -> Bool {
        let frame = [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
        return frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == frame.count
    }
}
