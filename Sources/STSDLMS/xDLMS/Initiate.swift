/// The xDLMS conformance block: 24 bits, bit 0 the most significant of the first byte.
public struct Conformance: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue & 0xFF_FFFF }
    static func bit(_ n: Int) -> Conformance { Conformance(rawValue: 1 << UInt32(23 - n)) }

    public static let blockTransferWithGet = bit(11)
    public static let multipleReferences = bit(14)
    public static let get = bit(19)
    public static let set = bit(20)
    public static let selectiveAccess = bit(21)
    public static let action = bit(23)

    /// What the simulator's meter offers.
    public static let meter: Conformance = [.blockTransferWithGet, .multipleReferences, .get, .set, .selectiveAccess, .action]
}

/// The xDLMS InitiateRequest the client puts in the AARQ's user-information.
public struct InitiateRequest: Equatable, Sendable {
    /// The DLMS version the client proposes (6).
    public var dlmsVersion: UInt8 = 6
    /// The services the client proposes.
    public var conformance: Conformance
    /// The largest APDU the client can receive.
    public var maxReceivePDUSize: UInt16

    public init(conformance: Conformance, maxReceivePDUSize: UInt16) {
        self.conformance = conformance
        self.maxReceivePDUSize = maxReceivePDUSize
    }

    /// Parses it (tag 0x01). A dedicated key is refused: suite 0 with global keys only.
    public static func decode(_ b: [UInt8]) throws(DLMSError) -> InitiateRequest {
        var r = ByteReader(b)
        guard try r.byte() == 0x01 else { throw .malformed("not an InitiateRequest") }
        if try r.byte() != 0 { throw .unsupported("dedicated key") }
        if try r.byte() != 0 { _ = try r.byte() } // response-allowed (default TRUE)
        if try r.byte() != 0 { _ = try r.byte() } // proposed quality of service
        let version = try r.byte()
        guard try r.take(3) == [0x5F, 0x1F, 0x04] else { throw .malformed("conformance block") }
        _ = try r.byte() // unused bits
        let c = UInt32(try r.unsigned(3))
        let pdu = try r.uint16()
        var out = InitiateRequest(conformance: Conformance(rawValue: c), maxReceivePDUSize: pdu)
        out.dlmsVersion = version
        return out
    }

    /// Its bytes.
    public var encoded: [UInt8] {
        var out: [UInt8] = [0x01, 0x00, 0x00, 0x00, dlmsVersion, 0x5F, 0x1F, 0x04, 0x00]
        out.appendBigEndian(conformance.rawValue, width: 3)
        out.appendBigEndian(maxReceivePDUSize)
        return out
    }
}

/// The xDLMS InitiateResponse the meter puts in the AARE.
public struct InitiateResponse: Equatable, Sendable {
    /// The services both sides offer.
    public var conformance: Conformance
    /// The largest APDU the meter can receive.
    public var maxReceivePDUSize: UInt16

    public init(conformance: Conformance, maxReceivePDUSize: UInt16) {
        self.conformance = conformance
        self.maxReceivePDUSize = maxReceivePDUSize
    }

    /// Its bytes (DLMS version 6, VAA name 0x0007 for logical-name referencing).
    public var encoded: [UInt8] {
        var out: [UInt8] = [0x08, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00]
        out.appendBigEndian(conformance.rawValue, width: 3)
        out.appendBigEndian(maxReceivePDUSize)
        out += [0x00, 0x07]
        return out
    }

    /// Parses it (tag 0x08); a ConfirmedServiceError (0x0E) is reported as a peer error.
    public static func decode(_ b: [UInt8]) throws(DLMSError) -> InitiateResponse {
        var r = ByteReader(b)
        let tag = try r.byte()
        if tag == 0x0E { throw .peerError("initiate refused: \(b.dropFirst().map { String($0) }.joined(separator: " "))") }
        guard tag == 0x08 else { throw .malformed("not an InitiateResponse") }
        if try r.byte() != 0 { _ = try r.byte() }
        _ = try r.byte() // version
        guard try r.take(3) == [0x5F, 0x1F, 0x04] else { throw .malformed("conformance block") }
        _ = try r.byte()
        let c = UInt32(try r.unsigned(3))
        let pdu = try r.uint16()
        return InitiateResponse(conformance: Conformance(rawValue: c), maxReceivePDUSize: pdu)
    }
}
