/// The TCP wrapper of IEC 62056-4-7 (DLMS UA Green Book, "wrapper protocol data unit"):
/// version 0x0001, source wPort, destination wPort, the APDU's length, then the APDU.
public struct WrapperFrame: Equatable, Sendable {
    /// The sender's wPort (a client SAP or the server's logical device).
    public var source: UInt16
    /// The receiver's wPort.
    public var destination: UInt16
    /// The xDLMS/ACSE APDU carried.
    public var apdu: [UInt8]

    /// The only wrapper version there is.
    public static let version: UInt16 = 1
    /// The header's size.
    public static let headerSize = 8
    /// The largest APDU accepted from a peer; a longer frame is refused before its bytes are read.
    public static let maximumAPDU = 65_535

    /// A frame from its fields.
    public init(source: UInt16, destination: UInt16, apdu: [UInt8]) {
        self.source = source
        self.destination = destination
        self.apdu = apdu
    }

    /// The frame's bytes.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerSize + apdu.count)
        out.appendBigEndian(Self.version)
        out.appendBigEndian(source)
        out.appendBigEndian(destination)
        out.appendBigEndian(UInt16(apdu.count))
        out.append(contentsOf: apdu)
        return out
    }

    /// The APDU length a header announces, or an error for a header that is not a wrapper header.
    public static func announcedLength(header: ArraySlice<UInt8>) throws(DLMSError) -> Int {
        guard header.count >= headerSize else { throw .truncated }
        let h = Array(header.prefix(headerSize))
        guard h[0] == 0, h[1] == 1 else { throw .malformed("wrapper version \(h[0]) \(h[1])") }
        return Int(h[6]) << 8 | Int(h[7])
    }

    /// Takes one whole frame off the front of `buffer` when it holds one; nil when more bytes
    /// are needed. A bad header is an error (the connection should be closed).
    public static func take(from buffer: inout [UInt8]) throws(DLMSError) -> WrapperFrame? {
        guard buffer.count >= headerSize else { return nil }
        let length = try announcedLength(header: buffer[0..<headerSize])
        guard buffer.count >= headerSize + length else { return nil }
        let frame = WrapperFrame(source: UInt16(buffer[2]) << 8 | UInt16(buffer[3]),
                                 destination: UInt16(buffer[4]) << 8 | UInt16(buffer[5]),
                                 apdu: Array(buffer[headerSize..<(headerSize + length)]))
        buffer.removeFirst(headerSize + length)
        return frame
    }
}
