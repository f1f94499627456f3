/// The head-end's side of one association, with no I/O: it builds the AARQ and each request,
/// checks and opens every answer (suite 0 for the management client) and follows HLS-GMAC.
/// A transport sends what it returns and feeds back what the meter answered.
public struct ClientSession: Sendable {
    /// How the client authenticates.
    public enum Credentials: Sendable {
        /// SAP 16, no security.
        case publicClient
        /// SAP 1, HLS-GMAC and suite 0 with these keys; `clientTitle` is 8 bytes.
        case management(keys: SecurityKeys, clientTitle: [UInt8])
    }

    public let credentials: Credentials
    /// The meter's system title, learnt from the AARE (and checked against `expectedServerTitle`).
    public private(set) var serverTitle: [UInt8] = []
    /// The system title the meter must present, when known.
    public var expectedServerTitle: [UInt8]?
    /// The client's next invocation counter (start above the meter's 0.0.43.1.0.255).
    public private(set) var counter: UInt32
    /// The highest counter seen from the meter (its answers must rise).
    public private(set) var lastServerCounter: UInt32?
    var challenge: [UInt8] = []
    var serverChallenge: [UInt8] = []
    var nextInvoke: UInt8 = 0
    /// The meter's negotiated receive size.
    public private(set) var serverMaxPDU: UInt16 = 0

    /// A session that will start its invocation counter at `counter`.
    public init(_ credentials: Credentials, counter: UInt32 = 1, challenge: [UInt8]? = nil) {
        self.credentials = credentials
        self.counter = counter
        self.challenge = challenge ?? (0..<16).map { _ in UInt8.random(in: 0...255) }
    }

    /// The client SAP of these credentials.
    public var clientSAP: UInt16 { if case .publicClient = credentials { return 16 }; return 1 }

    /// The AARQ.
    public mutating func associationRequest() throws(DLMSError) -> [UInt8] {
        let initiate = InitiateRequest(conformance: .meter, maxReceivePDUSize: 0xFFFF).encoded
        switch credentials {
        case .publicClient:
            return AssociationRequest(context: .logicalName, userInformation: initiate).encoded
        case .management(let keys, let title):
            var user: [UInt8] = [0x21]
            let protected = try protect(initiate, keys: keys, title: title)
            user.appendLength(protected.count)
            user += protected
            return AssociationRequest(context: .logicalNameCiphered, callingTitle: title, mechanism: .highGMAC,
                                      callingAuthentication: challenge, userInformation: user).encoded
        }
    }

    /// Reads the AARE. Returns the HLS pass-3 request to send (management), or nil when the
    /// association is already open (public client).
    public mutating func handleAssociationResponse(_ apdu: [UInt8]) throws(DLMSError) -> [UInt8]? {
        let aare = try AssociationResponse.decode(apdu)
        switch credentials {
        case .publicClient:
            guard aare.result == 0 else { throw .associationRejected(result: aare.result, diagnostic: aare.diagnostic) }
            serverMaxPDU = try InitiateResponse.decode(aare.userInformation ?? []).maxReceivePDUSize
            return nil
        case .management(let keys, let title):
            guard aare.result == 0, aare.diagnostic == 14 else { throw .associationRejected(result: aare.result, diagnostic: aare.diagnostic) }
            guard let t = aare.respondingTitle, t.count == 8 else { throw .malformed("AARE without the meter's system title") }
            if let e = expectedServerTitle, e != t { throw .authenticationFailed }
            serverTitle = t
            guard let stoc = aare.respondingAuthentication, let user = aare.userInformation, user.first == 0x28 else {
                throw .malformed("AARE without HLS challenge or ciphered InitiateResponse")
            }
            var r = ByteReader(user, start: 1)
            let content = try r.take(try r.length())
            let initiate = try open(content, keys: keys)
            serverMaxPDU = try InitiateResponse.decode(initiate).maxReceivePDUSize
            serverChallenge = stoc
            let reply = try SecuritySuite0.challengeResponse(stoc, senderTitle: title, counter: try takeCounter(), keys: keys)
            return try request(.action(invoke: invokeByte(), MethodDescriptor(15, .currentAssociation, 1), .octetString(reply)))
        }
    }

    /// Checks the meter's pass-4 answer (its GMAC over our challenge).
    public mutating func handleAuthenticationResponse(_ apdu: [UInt8]) throws(DLMSError) {
        guard case .management(let keys, _) = credentials else { return }
        guard case .action(_, 0, .data(.octetString(let reply))?) = try response(apdu) else { throw .authenticationFailed }
        try SecuritySuite0.verifyChallengeResponse(reply, challenge: challenge, senderTitle: serverTitle, keys: keys)
    }

    /// The APDU for `request`, ciphered when the association is.
    public mutating func request(_ request: XDLMSRequest) throws(DLMSError) -> [UInt8] {
        let plain = request.encoded
        guard case .management(let keys, let title) = credentials else { return plain }
        let protected = try protect(plain, keys: keys, title: title)
        var out: [UInt8] = [XDLMSRequest.gloTag[plain[0]] ?? 0xDB]
        out.appendLength(protected.count)
        return out + protected
    }

    /// The meter's answer, checked and opened.
    public mutating func response(_ apdu: [UInt8]) throws(DLMSError) -> XDLMSResponse {
        guard case .management(let keys, _) = credentials else { return try XDLMSResponse.decode(apdu) }
        guard let tag = apdu.first else { throw .truncated }
        if tag == 0xD8 || tag == 0x0E { return try XDLMSResponse.decode(apdu) } // unciphered refusals
        var r = ByteReader(apdu, start: 1)
        if tag == 0xDB {
            guard try r.length() == 8, try r.take(8) == serverTitle else { throw .authenticationFailed }
        } else {
            guard XDLMSRequest.gloTag.values.contains(tag) else { throw .malformed("unciphered answer \(tag) on a ciphered association") }
        }
        let content = try r.take(try r.length())
        let plain = try open(content, keys: keys)
        return try XDLMSResponse.decode(plain)
    }

    /// The next invoke-id-and-priority byte (high priority, confirmed).
    public mutating func invokeByte() -> UInt8 {
        nextInvoke = (nextInvoke + 1) & 0x0F
        return 0xC0 | nextInvoke
    }

    mutating func takeCounter() throws(DLMSError) -> UInt32 {
        guard counter < UInt32.max else { throw .tooLarge("invocation counter exhausted") }
        defer { counter += 1 }
        return counter
    }

    mutating func protect(_ plain: [UInt8], keys: SecurityKeys, title: [UInt8]) throws(DLMSError) -> [UInt8] {
        try SecuritySuite0.protect(plain, control: .authenticatedEncrypted, senderTitle: title, counter: try takeCounter(), keys: keys)
    }

    mutating func open(_ content: [UInt8], keys: SecurityKeys) throws(DLMSError) -> [UInt8] {
        let opened = try SecuritySuite0.unprotect(content, senderTitle: serverTitle, keys: keys)
        if let last = lastServerCounter, opened.counter <= last { throw .replayed(counter: opened.counter, lastAccepted: last) }
        lastServerCounter = opened.counter
        return opened.apdu
    }
}
