import STSDLMS
import Testing

@Suite("IEC 62056-4-7 wrapper frames")
struct WrapperTests {
    /// The public client's AARQ as gurux-dlms (Python, GXDLMSClient, wrapper interface, client
    /// SAP 16, server 1) puts it on the wire: header 00 01 | 00 10 | 00 01 | 00 1F, then the AARQ.
    static let guruxAARQFrame = hex("00 01 00 10 00 01 00 1F 60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF")
    static let guruxAARQ = Array(guruxAARQFrame.dropFirst(8))

    @Test("encode: version 1, source, destination, length, APDU — byte for byte what gurux sends")
    func encode() {
        let frame = WrapperFrame(source: 16, destination: 1, apdu: Self.guruxAARQ)
        #expect(frame.encoded == Self.guruxAARQFrame)
        #expect(WrapperFrame(source: 0x0102, destination: 0xA0B0, apdu: []).encoded == [0x00, 0x01, 0x01, 0x02, 0xA0, 0xB0, 0x00, 0x00])
        let big = WrapperFrame(source: 1, destination: 1, apdu: [UInt8](repeating: 0x42, count: 300)).encoded
        #expect(Array(big.prefix(8)) == [0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x01, 0x2C] && big.count == 308)
    }

    @Test("take: nothing until the whole frame is there, then the frame and nothing left over")
    func partial() throws {
        var buffer: [UInt8] = []
        for (i, byte) in Self.guruxAARQFrame.enumerated() {
            #expect(try WrapperFrame.take(from: &buffer) == nil, "after \(i) bytes")
            #expect(buffer.count == i, "a partial frame stays in the buffer")
            buffer.append(byte)
        }
        let frame = try #require(try WrapperFrame.take(from: &buffer))
        #expect(frame == WrapperFrame(source: 16, destination: 1, apdu: Self.guruxAARQ))
        #expect(buffer.isEmpty)
        #expect(try WrapperFrame.take(from: &buffer) == nil)
    }

    @Test("two frames in one read, then the start of a third")
    func twoFrames() throws {
        let first = WrapperFrame(source: 16, destination: 1, apdu: Self.guruxAARQ)
        let second = WrapperFrame(source: 1, destination: 16, apdu: [0x62, 0x03, 0x80, 0x01, 0x00])
        let third = WrapperFrame(source: 16, destination: 1, apdu: [0xC0, 0x01, 0xC1])
        var buffer = first.encoded + second.encoded + Array(third.encoded.prefix(10))
        #expect(try WrapperFrame.take(from: &buffer) == first)
        #expect(try WrapperFrame.take(from: &buffer) == second)
        #expect(try WrapperFrame.take(from: &buffer) == nil)
        #expect(buffer == Array(third.encoded.prefix(10)), "the partial third frame is kept")
        buffer += third.encoded.dropFirst(10)
        #expect(try WrapperFrame.take(from: &buffer) == third)
        #expect(buffer.isEmpty)
    }

    @Test("an empty APDU is a whole frame")
    func emptyAPDU() throws {
        var buffer: [UInt8] = [0x00, 0x01, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01]
        #expect(try WrapperFrame.take(from: &buffer) == WrapperFrame(source: 16, destination: 1, apdu: []))
        #expect(buffer == [0x00, 0x01], "the next frame's first bytes stay")
    }

    @Test("a version other than 0x0001 is refused as soon as the header is complete",
          arguments: [[UInt8(0x00), 0x02], [0x00, 0x00], [0x01, 0x01], [0xFF, 0xFF]])
    func badVersion(_ version: [UInt8]) throws {
        var short = version + [0x00, 0x10, 0x00, 0x01, 0x00]
        #expect(try WrapperFrame.take(from: &short) == nil, "7 bytes: not yet a header")
        var buffer = version + [0x00, 0x10, 0x00, 0x01, 0x00, 0x02, 0xC0, 0x01]
        #expect(throws: DLMSError.malformed("wrapper version \(version[0]) \(version[1])")) { try WrapperFrame.take(from: &buffer) }
        #expect(throws: DLMSError.malformed("wrapper version \(version[0]) \(version[1])")) {
            try WrapperFrame.announcedLength(header: buffer[0..<8])
        }
    }

    @Test("announcedLength reads the header alone")
    func announcedLength() throws {
        #expect(try WrapperFrame.announcedLength(header: Self.guruxAARQFrame[0..<8]) == 0x1F)
        #expect(try WrapperFrame.announcedLength(header: ArraySlice<UInt8>([0x00, 0x01, 0, 1, 0, 1, 0xFF, 0xFF])) == WrapperFrame.maximumAPDU)
        #expect(throws: DLMSError.truncated) { try WrapperFrame.announcedLength(header: Self.guruxAARQFrame[0..<7]) }
        let slice = Self.guruxAARQFrame[8...]
        #expect(throws: DLMSError.malformed("wrapper version 96 29"), "a slice is read from its own start (60 1D …)") {
            try WrapperFrame.announcedLength(header: slice)
        }
    }
}
