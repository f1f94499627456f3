/// The little BER the ACSE APDUs need (single-byte tags, definite lengths), bounded like A-XDR.
enum BER {
    /// The tag-value pairs inside `bytes`, in order.
    static func elements(_ bytes: [UInt8]) throws(DLMSError) -> [(tag: UInt8, value: [UInt8])] {
        var reader = ByteReader(bytes)
        var out: [(UInt8, [UInt8])] = []
        while !reader.isAtEnd {
            let tag = try reader.byte()
            guard tag & 0x1F != 0x1F else { throw .unsupported("multi-byte BER tag") }
            let value = try reader.take(try reader.length())
            out.append((tag, value))
            guard out.count <= 32 else { throw .tooLarge("more than 32 ACSE fields") }
        }
        return out
    }

    /// One TLV.
    static func tlv(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        out.appendLength(value.count)
        return out + value
    }

    /// The single inner value of a constructed field that wraps one primitive (e.g. A6 → 04).
    static func inner(_ value: [UInt8], expecting tag: UInt8) throws(DLMSError) -> [UInt8] {
        let e = try elements(value)
        guard e.count == 1, e[0].tag == tag else { throw .malformed("expected BER tag \(tag)") }
        return e[0].value
    }
}

/// The application contexts of the Green Book (2.16.756.5.8.1.x).
public enum ApplicationContext: UInt8, Sendable {
    /// Logical-name referencing, no ciphering.
    case logicalName = 1
    /// Logical-name referencing with ciphered APDUs.
    case logicalNameCiphered = 3

    static let prefix: [UInt8] = [0x60, 0x85, 0x74, 0x05, 0x08, 0x01]
    var oid: [UInt8] { Self.prefix + [rawValue] }
}

/// Authentication mechanisms (2.16.756.5.8.2.x).
public enum AuthenticationMechanism: UInt8, Sendable {
    case none = 0, low = 1, high = 2, highMD5 = 3, highSHA1 = 4, highGMAC = 5, highSHA256 = 6, highECDSA = 7
    static let prefix: [UInt8] = [0x60, 0x85, 0x74, 0x05, 0x08, 0x02]
    var oid: [UInt8] { Self.prefix + [rawValue] }
}
