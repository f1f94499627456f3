/// The meter's side of one DLMS/COSEM connection, with no I/O: APDUs in, APDUs out.
/// It runs the association (AARQ/AARE, HLS-GMAC pass 3 and 4), unwraps and wraps suite 0
/// ciphering, splits long GET answers into blocks and hands each request to the device.
public struct ServerSession {
    enum State {
        case idle
        /// HLS pass 1–2 done: only reply_to_HLS_authentication may come.
        case awaitingHLS(challenge: [UInt8])
        case associated
    }
    /// A long GET answer being sent block by block.
    struct PendingBlocks { var data: [UInt8]; var next: UInt32; var invoke: UInt8 }

    let device: any CosemDevice
    let security: any ServerSecurityContext
    var state: State = .idle
    var role: ClientRole = .publicClient
    var clientTitle: [UInt8] = []
    var clientChallenge: [UInt8] = []
    var maxPDU = 512
    var pending: PendingBlocks?
    /// Bytes of a block answer that are not block data: the block header (≤ 14), the ciphering
    /// (SC, IC, tag: 17) and the general-glo header with its system title and length (≤ 14).
    static let blockOverhead = 48
    /// The meter's largest receivable APDU, announced in the InitiateResponse.
    public static let serverMaxPDU: UInt16 = 2048
    /// Makes the meter's HLS challenge; swap for tests. Default: 16 random bytes.
    public var makeChallenge: @Sendable () -> [UInt8] = { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    /// A session on `device`, secured by `security`.
    public init(device: any CosemDevice, security: any ServerSecurityContext) {
        self.device = device
        self.security = security
    }

    /// Whether an association (with HLS completed where required) is open.
    public var isAssociated: Bool { if case .associated = state { return true }; return false }

    /// Answers one APDU that arrived from client SAP `clientSAP`. Nil means: send nothing and
    /// close the connection (bytes that are not DLMS at all).
    public mutating func handle(_ apdu: [UInt8], fromClientSAP clientSAP: UInt16) -> [UInt8]? {
        guard let tag = apdu.first else { return nil }
        switch tag {
        case 0x60: return associate(apdu, clientSAP: clientSAP)
        case 0x62:
            state = .idle; pending = nil
            return Release.response
        default: break
        }
        guard state.isOpen, ClientRole(sap: clientSAP) == role else {
            return XDLMSResponse.exception(state: 1, service: 2).encoded // service-not-allowed
        }
        if role == .management { return ciphered(apdu) }
        guard let request = try? XDLMSRequest.decode(apdu) else {
            return XDLMSResponse.exception(state: 2, service: 2).encoded // service-unknown
        }
        return respond(to: request).encoded
    }

    // MARK: association

    mutating func associate(_ apdu: [UInt8], clientSAP: UInt16) -> [UInt8] {
        state = .idle; pending = nil
        func reject(_ diagnostic: UInt8, context: ApplicationContext = .logicalName) -> [UInt8] {
            AssociationResponse(result: 1, diagnostic: diagnostic, context: context, respondingTitle: security.systemTitle).encoded
        }
        guard let request = try? AssociationRequest.decode(apdu) else { return reject(1) }
        guard let role = ClientRole(sap: clientSAP) else { return reject(1, context: request.context) }
        switch role {
        case .publicClient:
            guard request.context == .logicalName else { return reject(2, context: request.context) }
            guard request.mechanism == nil || request.mechanism == AuthenticationMechanism.none else { return reject(11) }
            guard let initiate = try? InitiateRequest.decode(request.userInformation) else { return reject(1) }
            guard let response = negotiate(initiate) else { return initiateRefused(request.context) }
            self.role = role
            state = .associated
            return AssociationResponse(result: 0, diagnostic: 0, context: .logicalName, respondingTitle: security.systemTitle,
                                       userInformation: response.encoded).encoded
        case .management:
            guard request.context == .logicalNameCiphered else { return reject(2, context: request.context) }
            guard let mechanism = request.mechanism, mechanism == .highGMAC else { return reject(request.mechanism == nil ? 12 : 11, context: .logicalNameCiphered) }
            // The meter's own title would make the client's IVs (title ‖ counter) collide with the meter's.
            guard let title = request.callingTitle, title.count == 8, title != security.systemTitle,
                  let challenge = request.callingAuthentication, (8...64).contains(challenge.count),
                  request.userInformation.first == 0x21 else { return reject(13, context: .logicalNameCiphered) }
            var r = ByteReader(request.userInformation, start: 1)
            guard let n = try? r.length(), let content = try? r.take(n),
                  let opened = try? SecuritySuite0.unprotect(content, senderTitle: title, keys: security.keys),
                  (try? security.accept(clientCounter: opened.counter)) != nil,
                  let initiate = try? InitiateRequest.decode(opened.apdu) else { return reject(13, context: .logicalNameCiphered) }
            guard let response = negotiate(initiate) else { return initiateRefused(.logicalNameCiphered) }
            guard let counter = try? security.nextServerCounter(),
                  let protected = try? SecuritySuite0.protect(response.encoded, control: .authenticatedEncrypted,
                                                              senderTitle: security.systemTitle, counter: counter, keys: security.keys)
            else { return reject(1, context: .logicalNameCiphered) }
            var user: [UInt8] = [0x28]
            user.appendLength(protected.count)
            user += protected
            let stoc = makeChallenge()
            self.role = role
            clientTitle = title
            clientChallenge = challenge
            state = .awaitingHLS(challenge: stoc)
            return AssociationResponse(result: 0, diagnostic: 14, context: .logicalNameCiphered, respondingTitle: security.systemTitle,
                                       mechanism: .highGMAC, respondingAuthentication: stoc, userInformation: user).encoded
        }
    }

    func initiateRefused(_ context: ApplicationContext) -> [UInt8] {
        // ConfirmedServiceError: initiateError, service-error initiate, pdu-size-too-short / incompatible-conformance.
        AssociationResponse(result: 1, diagnostic: 1, context: context, respondingTitle: security.systemTitle,
                            userInformation: [0x0E, 0x01, 0x06, 0x03]).encoded
    }

    mutating func negotiate(_ initiate: InitiateRequest) -> InitiateResponse? {
        guard initiate.dlmsVersion >= 6, initiate.maxReceivePDUSize == 0 || initiate.maxReceivePDUSize >= 64 else { return nil }
        let agreed = initiate.conformance.intersection(.meter)
        guard !agreed.isEmpty else { return nil }
        // 0 means "no limit" to the client; the meter still keeps its answers to its own size.
        maxPDU = min(Int(initiate.maxReceivePDUSize == 0 ? Self.serverMaxPDU : initiate.maxReceivePDUSize), Int(Self.serverMaxPDU))
        return InitiateResponse(conformance: agreed, maxReceivePDUSize: Self.serverMaxPDU)
    }

    // MARK: ciphering

    mutating func ciphered(_ apdu: [UInt8]) -> [UInt8]? {
        var r = ByteReader(apdu, start: 1)
        let general = apdu[0] == 0xDB
        if general {
            guard let n = try? r.length(), n == 8, let title = try? r.take(8), title == clientTitle else {
                return XDLMSResponse.exception(state: 1, service: 5).encoded
            }
        } else if XDLMSRequest.gloTag.values.contains(apdu[0]) == false {
            return XDLMSResponse.exception(state: 1, service: 5).encoded
        }
        guard let n = try? r.length(), let content = try? r.take(n), r.isAtEnd,
              let opened = try? SecuritySuite0.unprotect(content, senderTitle: clientTitle, keys: security.keys) else {
            return XDLMSResponse.exception(state: 1, service: 5).encoded // deciphering-error
        }
        // The glo- tag must name the service inside, checked before the counter is spent.
        if !general, XDLMSRequest.gloTag[opened.apdu.first ?? 0] != apdu[0] { return XDLMSResponse.exception(state: 1, service: 5).encoded }
        do { try security.accept(clientCounter: opened.counter) } catch {
            return XDLMSResponse.exception(state: 1, service: 6).encoded + SecuritySuite0.counterBytes(security.lastAcceptedClientCounter)
        }
        let answer: XDLMSResponse
        if let request = try? XDLMSRequest.decode(opened.apdu) { answer = respond(to: request) }
        else { answer = .exception(state: 2, service: 2) }
        let plain = answer.encoded
        // An exception-response has no ciphered form: it goes out as it is.
        if plain.first == 0xD8 { return plain }
        guard let counter = try? security.nextServerCounter(),
              let protected = try? SecuritySuite0.protect(plain, control: .authenticatedEncrypted, senderTitle: security.systemTitle,
                                                          counter: counter, keys: security.keys) else {
            return XDLMSResponse.exception(state: 1, service: 3).encoded
        }
        var out: [UInt8]
        if general {
            out = [0xDB, 0x08] + security.systemTitle
        } else {
            out = [XDLMSRequest.gloTag[plain[0]] ?? 0xD8]
        }
        out.appendLength(protected.count)
        return out + protected
    }

    // MARK: services

    mutating func respond(to request: XDLMSRequest) -> XDLMSResponse {
        if case .awaitingHLS(let stoc) = state {
            guard case .action(let invoke, let m, let p) = request, m.classId == 15, m.instance == .currentAssociation, m.method == 1,
                  case .octetString(let reply)? = p else {
                // Until HLS pass 3 succeeds nothing else is served; the refusal has the request's type.
                let denied = DataAccessResult.scopeOfAccessViolated.rawValue
                switch request {
                case .get(let i, _, _), .getNext(let i, _): return .get(invoke: i, .failure(denied))
                case .getList(let i, let list): return .getList(invoke: i, list.map { _ in .failure(denied) })
                case .set(let i, _, _): return .set(invoke: i, result: denied)
                case .action(let i, _, _): return .action(invoke: i, result: denied, nil)
                }
            }
            guard (try? SecuritySuite0.verifyChallengeResponse(reply, challenge: stoc, senderTitle: clientTitle, keys: security.keys)) != nil,
                  let counter = try? security.nextServerCounter(),
                  let answer = try? SecuritySuite0.challengeResponse(clientChallenge, senderTitle: security.systemTitle, counter: counter,
                                                                    keys: security.keys) else {
                state = .idle
                return .action(invoke: invoke, result: DataAccessResult.otherReason.rawValue, nil)
            }
            state = .associated
            return .action(invoke: invoke, result: 0, .data(.octetString(answer)))
        }
        switch request {
        case .get(let invoke, let d, let s):
            pending = nil
            let result = d.classId == 15 && d.instance == .currentAssociation ? association(d.attribute) : device.get(d, selection: s, role: role)
            guard case .data(let value) = result else { return .get(invoke: invoke, result) }
            let bytes = value.encoded
            let room = maxPDU - Self.blockOverhead
            guard bytes.count > room, room > 0 else { return .get(invoke: invoke, result) }
            pending = PendingBlocks(data: Array(bytes.dropFirst(room)), next: 2, invoke: invoke)
            return .getBlock(invoke: invoke, last: false, block: 1, raw: Array(bytes.prefix(room)))
        case .getNext(let invoke, let block):
            guard var p = pending else { return .getBlockFailure(invoke: invoke, block: block, result: DataAccessResult.noLongGetInProgress.rawValue) }
            guard block == p.next - 1 else {
                pending = nil
                return .getBlockFailure(invoke: invoke, block: block, result: DataAccessResult.longGetAborted.rawValue)
            }
            let room = maxPDU - Self.blockOverhead
            let chunk = Array(p.data.prefix(room))
            p.data.removeFirst(chunk.count)
            let number = p.next
            p.next += 1
            let last = p.data.isEmpty
            pending = last ? nil : p
            return .getBlock(invoke: invoke, last: last, block: number, raw: chunk)
        case .getList(let invoke, let list):
            pending = nil
            let results = list.map { d in
                d.classId == 15 && d.instance == .currentAssociation ? association(d.attribute) : device.get(d, selection: nil, role: role)
            }
            // A list answer longer than the negotiated size goes in blocks too: the blocks carry
            // the list's count and results, as the Green Book's GET-with-list datablock does.
            let whole = XDLMSResponse.getList(invoke: invoke, results).encoded
            let room = maxPDU - Self.blockOverhead
            guard whole.count > room, room > 0 else { return .getList(invoke: invoke, results) }
            let raw = Array(whole.dropFirst(3))
            pending = PendingBlocks(data: Array(raw.dropFirst(room)), next: 2, invoke: invoke)
            return .getBlock(invoke: invoke, last: false, block: 1, raw: Array(raw.prefix(room)))
        case .set(let invoke, let d, let v):
            if role == .publicClient { return .set(invoke: invoke, result: DataAccessResult.readWriteDenied.rawValue) }
            return .set(invoke: invoke, result: device.set(d, value: v, role: role))
        case .action(let invoke, let m, let p):
            if role == .publicClient { return .action(invoke: invoke, result: DataAccessResult.readWriteDenied.rawValue, nil) }
            let answer = device.action(m, parameters: p, role: role)
            return .action(invoke: invoke, result: answer.result, answer.returned)
        }
    }

    /// The current association's attributes (Association LN, version 1).
    func association(_ attribute: Int8) -> GetResult {
        switch attribute {
        case 1: return .data(.octetString(ObisCode.currentAssociation.bytes))
        case 2:
            let me = CosemObjectInfo(classId: 15, version: 1, instance: .currentAssociation,
                                     attributes: [.read, .read, .read, .read, .none, .read, .none, .read], methods: [role == .management])
            return .data(.array(([me] + device.objects(for: role)).map(\.listElement)))
        case 3: return .data(.structure([.integer(Int8(role.sap)), .longUnsigned(1)]))
        case 4: return .data(.octetString((role == .management ? ApplicationContext.logicalNameCiphered : .logicalName).oid))
        case 6: return .data(.octetString((role == .management ? AuthenticationMechanism.highGMAC : .none).oid))
        case 8: return .data(.enumerated(2)) // associated
        default: return .failure(DataAccessResult.objectUndefined.rawValue)
        }
    }
}

extension ServerSession.State {
    var isOpen: Bool { if case .idle = self { return false }; return true }
}
