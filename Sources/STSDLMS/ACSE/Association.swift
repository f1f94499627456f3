/// AARQ: what a client asks for when it opens an association (Green Book 9.3, ACSE).
public struct AssociationRequest: Equatable, Sendable {
    /// The application context the client proposes.
    public var context: ApplicationContext
    /// The client's system title (calling-AP-title), 8 bytes, when it ciphers.
    public var callingTitle: [UInt8]?
    /// The authentication mechanism, nil for none.
    public var mechanism: AuthenticationMechanism?
    /// The client's challenge (HLS) or password (LLS).
    public var callingAuthentication: [UInt8]?
    /// The user-information: an InitiateRequest, plain or as glo-initiateRequest (0x21 …).
    public var userInformation: [UInt8]

    /// A request from its fields.
    public init(context: ApplicationContext, callingTitle: [UInt8]? = nil, mechanism: AuthenticationMechanism? = nil,
                callingAuthentication: [UInt8]? = nil, userInformation: [UInt8]) {
        self.context = context
        self.callingTitle = callingTitle
        self.mechanism = mechanism
        self.callingAuthentication = callingAuthentication
        self.userInformation = userInformation
    }

    /// Parses an AARQ (tag 0x60).
    public static func decode(_ apdu: [UInt8]) throws(DLMSError) -> AssociationRequest {
        guard apdu.first == 0x60 else { throw .malformed("not an AARQ") }
        var reader = ByteReader(apdu, start: 1)
        let body = try reader.take(try reader.length())
        var context: ApplicationContext?
        var request = AssociationRequest(context: .logicalName, userInformation: [])
        var sawUserInformation = false
        for (tag, value) in try BER.elements(body) {
            switch tag {
            case 0xA1:
                let oid = try BER.inner(value, expecting: 0x06)
                guard oid.count == 7, Array(oid.prefix(6)) == ApplicationContext.prefix, let c = ApplicationContext(rawValue: oid[6]) else {
                    throw .unsupported("application context")
                }
                context = c
            case 0xA6: request.callingTitle = try BER.inner(value, expecting: 0x04)
            case 0x8B:
                guard value.count == 7, Array(value.prefix(6)) == AuthenticationMechanism.prefix,
                      let m = AuthenticationMechanism(rawValue: value[6]) else { throw .unsupported("authentication mechanism") }
                request.mechanism = m
            case 0xAC:
                let e = try BER.elements(value)
                guard e.count == 1, e[0].tag == 0x80 else { throw .malformed("calling-authentication-value") }
                request.callingAuthentication = e[0].value
            case 0xBE:
                request.userInformation = try BER.inner(value, expecting: 0x04)
                sawUserInformation = true
            default: continue // protocol version, AE qualifiers, acse requirements: nothing to act on
            }
        }
        guard let c = context else { throw .malformed("AARQ without an application context") }
        guard sawUserInformation else { throw .malformed("AARQ without user-information") }
        request.context = c
        return request
    }

    /// The AARQ's bytes.
    public var encoded: [UInt8] {
        var body = BER.tlv(0xA1, BER.tlv(0x06, context.oid))
        if let t = callingTitle { body += BER.tlv(0xA6, BER.tlv(0x04, t)) }
        if let m = mechanism, m != .none {
            body += BER.tlv(0x8A, [0x07, 0x80])
            body += BER.tlv(0x8B, m.oid)
            if let a = callingAuthentication { body += BER.tlv(0xAC, BER.tlv(0x80, a)) }
        }
        body += BER.tlv(0xBE, BER.tlv(0x04, userInformation))
        return BER.tlv(0x60, body)
    }
}

/// AARE: the meter's answer to an AARQ.
public struct AssociationResponse: Equatable, Sendable {
    /// Result: 0 accepted, 1 rejected-permanent, 2 rejected-transient.
    public var result: UInt8
    /// The acse-service-user diagnostic: 0 null, 1 no reason, 2 context not supported,
    /// 11 mechanism not recognised, 12 mechanism required, 13 authentication failure,
    /// 14 authentication required (HLS: pass 3 follows).
    public var diagnostic: UInt8
    /// The context echoed.
    public var context: ApplicationContext
    /// The meter's system title (responding-AP-title).
    public var respondingTitle: [UInt8]?
    /// The mechanism echoed (HLS).
    public var mechanism: AuthenticationMechanism?
    /// The meter's challenge (HLS: StoC).
    public var respondingAuthentication: [UInt8]?
    /// An InitiateResponse (plain or glo-initiateResponse 0x28) or a ConfirmedServiceError (0x0E).
    public var userInformation: [UInt8]?

    /// A response from its fields.
    public init(result: UInt8, diagnostic: UInt8, context: ApplicationContext, respondingTitle: [UInt8]? = nil,
                mechanism: AuthenticationMechanism? = nil, respondingAuthentication: [UInt8]? = nil, userInformation: [UInt8]? = nil) {
        self.result = result
        self.diagnostic = diagnostic
        self.context = context
        self.respondingTitle = respondingTitle
        self.mechanism = mechanism
        self.respondingAuthentication = respondingAuthentication
        self.userInformation = userInformation
    }

    /// The AARE's bytes.
    public var encoded: [UInt8] {
        var body = BER.tlv(0xA1, BER.tlv(0x06, context.oid))
        body += BER.tlv(0xA2, BER.tlv(0x02, [result]))
        body += BER.tlv(0xA3, BER.tlv(0xA1, BER.tlv(0x02, [diagnostic])))
        if let t = respondingTitle { body += BER.tlv(0xA4, BER.tlv(0x04, t)) }
        if let m = mechanism, m != .none {
            body += BER.tlv(0x88, [0x07, 0x80])
            body += BER.tlv(0x89, m.oid)
            if let a = respondingAuthentication { body += BER.tlv(0xAA, BER.tlv(0x80, a)) }
        }
        if let u = userInformation { body += BER.tlv(0xBE, BER.tlv(0x04, u)) }
        return BER.tlv(0x61, body)
    }

    /// Parses an AARE (tag 0x61).
    public static func decode(_ apdu: [UInt8]) throws(DLMSError) -> AssociationResponse {
        guard apdu.first == 0x61 else { throw .malformed("not an AARE") }
        var reader = ByteReader(apdu, start: 1)
        let body = try reader.take(try reader.length())
        var response = AssociationResponse(result: 255, diagnostic: 255, context: .logicalName)
        for (tag, value) in try BER.elements(body) {
            switch tag {
            case 0xA1:
                let oid = try BER.inner(value, expecting: 0x06)
                guard oid.count == 7, let c = ApplicationContext(rawValue: oid[6]) else { throw .unsupported("application context") }
                response.context = c
            case 0xA2:
                let r = try BER.inner(value, expecting: 0x02)
                guard r.count == 1 else { throw .malformed("AARE result") }
                response.result = r[0]
            case 0xA3:
                let e = try BER.elements(value)
                guard e.count == 1 else { throw .malformed("AARE diagnostic") }
                let d = try BER.inner(e[0].value, expecting: 0x02)
                guard d.count == 1 else { throw .malformed("AARE diagnostic") }
                response.diagnostic = d[0]
            case 0xA4: response.respondingTitle = try BER.inner(value, expecting: 0x04)
            case 0x89:
                guard value.count == 7 else { throw .malformed("mechanism") }
                response.mechanism = AuthenticationMechanism(rawValue: value[6])
            case 0xAA:
                let e = try BER.elements(value)
                guard e.count == 1, e[0].tag == 0x80 else { throw .malformed("responding-authentication-value") }
                response.respondingAuthentication = e[0].value
            case 0xBE: response.userInformation = try BER.inner(value, expecting: 0x04)
            default: continue
            }
        }
        guard response.result != 255, response.diagnostic != 255 else { throw .malformed("AARE without a result") }
        return response
    }
}

/// The release request and response (RLRQ 0x62 / RLRE 0x63), reason "normal".
public enum Release {
    /// An RLRQ with reason normal and no user-information.
    public static let request: [UInt8] = [0x62, 0x03, 0x80, 0x01, 0x00]
    /// An RLRE with reason normal.
    public static let response: [UInt8] = [0x63, 0x03, 0x80, 0x01, 0x00]
}
