/// A bounded cursor over bytes that arrived from a peer: every read checks what is left, so a
/// short or lying length is an error, never a crash.
public struct ByteReader: Sendable {
    /// The bytes being read.
    public let bytes: [UInt8]
    /// The next byte's index.
    public private(set) var offset: Int
    /// Where this reader stops (exclusive).
    public let end: Int

    /// A reader over `bytes[start..<end]` (the whole array by default).
    public init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    /// Bytes not yet read.
    public var remaining: Int { end - offset }
    /// Whether every byte was read.
    public var isAtEnd: Bool { offset >= end }

    /// One byte.
    public mutating func byte() throws(DLMSError) -> UInt8 {
        guard offset < end else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next byte without consuming it.
    public func peek() throws(DLMSError) -> UInt8 {
        guard offset < end else { throw .truncated }
        return bytes[offset]
    }

    /// `count` bytes.
    public mutating func take(_ count: Int) throws(DLMSError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A big-endian unsigned integer of `width` bytes (1…8).
    public mutating func unsigned(_ width: Int) throws(DLMSError) -> UInt64 {
        guard width <= remaining else { throw .truncated }
        var value: UInt64 = 0
        for _ in 0..<width { value = value << 8 | UInt64(bytes[offset]); offset += 1 }
        return value
    }

    /// A big-endian UInt16.
    public mutating func uint16() throws(DLMSError) -> UInt16 { UInt16(try unsigned(2)) }
    /// A big-endian UInt32.
    public mutating func uint32() throws(DLMSError) -> UInt32 { UInt32(try unsigned(4)) }

    /// An A-XDR length: one byte below 0x80, else 0x8n followed by n big-endian bytes (n ≤ 4).
    /// A length larger than the bytes left is refused here, before anyone allocates for it.
    public mutating func length() throws(DLMSError) -> Int {
        let value = try count()
        guard value <= remaining else { throw .truncated }
        return value
    }

    /// An A-XDR length that counts something other than bytes (a bit-string's bits): not
    /// checked against the bytes left, only kept to four bytes.
    public mutating func count() throws(DLMSError) -> Int {
        let first = try byte()
        if first < 0x80 { return Int(first) }
        let width = Int(first & 0x7F)
        guard (1...4).contains(width) else { throw .malformed("length of \(width) bytes") }
        return Int(try unsigned(width))
    }
}

/// Appends A-XDR and BER pieces to a byte array.
extension Array where Element == UInt8 {
    /// Appends an A-XDR (and BER definite) length.
    public mutating func appendLength(_ n: Int) {
        if n < 0x80 { append(UInt8(n)) }
        else if n <= 0xFF { append(0x81); append(UInt8(n)) }
        else if n <= 0xFFFF { append(0x82); append(UInt8(n >> 8)); append(UInt8(n & 0xFF)) }
        else { append(0x84); for s in stride(from: 24, through: 0, by: -8) { append(UInt8((n >> s) & 0xFF)) } }
    }

    /// Appends `value` big-endian in `width` bytes.
    public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T, width: Int = MemoryLayout<T>.size) {
        let v = UInt64(truncatingIfNeeded: value)
        for i in stride(from: width - 1, through: 0, by: -1) { append(UInt8((v >> (UInt64(i) * 8)) & 0xFF)) }
    }
}
