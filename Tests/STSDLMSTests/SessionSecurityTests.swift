import STSDLMS
import Testing

/// What the meter refuses: replays, tampered APDUs, wrong keys, unknown or wrong client SAPs,
/// requests outside an association.
@Suite("ServerSession refusals")
struct SessionSecurityTests {
    static let energy = AttributeDescriptor(3, TestDevice.register, 2)
    static let serviceNotAllowed: [UInt8] = [0xD8, 0x01, 0x02]
    static let decipheringError: [UInt8] = [0xD8, 0x01, 0x05]

    @Test("a ciphered request sent again is a replay: exception 1/6 with the last accepted counter")
    func replayedRequest() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        try meter.openManagement(&client)
        let recorded = try client.request(.get(invoke: client.invokeByte(), Self.energy, nil))
        let first = try client.response(try meter.answer(recorded, from: 1))
        #expect(first.getValue == .doubleLongUnsigned(123_456))
        _ = try meter.send(&client) { .get(invoke: $0, Self.energy, nil) }
        let last = meter.security.lastAcceptedClientCounter
        let recordedCounter = try cipheredCounter(recorded)
        #expect(last > recordedCounter)

        let again = try meter.answer(recorded, from: 1)
        #expect(again == [0xD8, 0x01, 0x06] + be32(last))
        let decoded = try client.response(again)
        #expect(decoded == .exception(state: 1, service: 6))
        #expect(meter.security.lastAcceptedClientCounter == last, "a replay moves nothing")
        let next = try meter.send(&client) { .get(invoke: $0, Self.energy, nil) }
        #expect(next.getValue == .doubleLongUnsigned(123_456), "the association goes on")
    }

    @Test("a recorded management AARQ replayed later is refused (authentication failure)")
    func replayedAARQ() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        let recorded = try client.associationRequest()
        let aare = try meter.answer(recorded, from: 1)
        _ = try #require(try client.handleAssociationResponse(aare))
        #expect(try meter.answer(Release.request, from: 1) == Release.response)
        let replayed = try AssociationResponse.decode(try meter.answer(recorded, from: 1))
        #expect(replayed.result == 1 && replayed.diagnostic == 13)
        #expect(!meter.server.isAssociated)
    }

    @Test("a ciphered request with any one byte changed is a deciphering error (exception 1/5)")
    func tamperedRequest() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        try meter.openManagement(&client)
        let apdu = try client.request(.set(invoke: client.invokeByte(), Self.energy, .doubleLongUnsigned(7)))
        for index in apdu.indices {
            var bad = apdu
            bad[index] ^= 0x01
            let out = try meter.answer(bad, from: 1)
            #expect(out == Self.decipheringError, "byte \(index) changed")
        }
        #expect(meter.device.energy == 123_456, "no tampered SET reached the device")
        #expect(meter.server.isAssociated)
        let next = try meter.send(&client) { .get(invoke: $0, Self.energy, nil) }
        #expect(next.getValue == .doubleLongUnsigned(123_456))
    }

    @Test("the head-end refuses a tampered pass 4 and a meter answer it has already seen")
    func clientChecks() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        let aare = try meter.answer(try client.associationRequest(), from: 1)
        let pass3 = try #require(try client.handleAssociationResponse(aare))
        var pass4 = try meter.answer(pass3, from: 1)
        pass4[pass4.count - 1] ^= 0x01
        #expect(throws: DLMSError.authenticationFailed) { try client.handleAuthenticationResponse(pass4) }

        var fresh = TestMeter.managementClient()
        var other = TestMeter()
        try other.openManagement(&fresh)
        let a = try other.answer(try fresh.request(.get(invoke: fresh.invokeByte(), Self.energy, nil)), from: 1)
        _ = try fresh.response(a)
        let b = try other.answer(try fresh.request(.get(invoke: fresh.invokeByte(), Self.energy, nil)), from: 1)
        _ = try fresh.response(b)
        let ca = try cipheredCounter(a), cb = try cipheredCounter(b)
        #expect(throws: DLMSError.replayed(counter: ca, lastAccepted: cb)) { try fresh.response(a) }
    }

    @Test("the head-end refuses a meter with another system title than expected")
    func wrongMeterTitle() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        client.expectedServerTitle = Array("OTHERMTR".utf8)
        let aare = try meter.answer(try client.associationRequest(), from: 1)
        #expect(throws: DLMSError.authenticationFailed) { try client.handleAssociationResponse(aare) }
    }

    @Test("a head-end with the wrong authentication key or block cipher key is rejected in the AARE",
          arguments: [TestKeys.wrongAuthentication, TestKeys.wrongBlockCipher])
    func wrongKeys(_ keys: SecurityKeys) throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient(keys: keys)
        let aare = try meter.answer(try client.associationRequest(), from: 1)
        let decoded = try AssociationResponse.decode(aare)
        #expect(decoded.result == 1 && decoded.diagnostic == 13, "rejected-permanent, authentication failure")
        #expect(throws: DLMSError.associationRejected(result: 1, diagnostic: 13)) { try client.handleAssociationResponse(aare) }
        #expect(!meter.server.isAssociated)
        #expect(meter.security.lastAcceptedClientCounter == 0, "nothing from that client was accepted")
        let get = try client.request(.get(invoke: client.invokeByte(), Self.energy, nil))
        #expect(try meter.answer(get, from: 1) == Self.serviceNotAllowed)
    }

    @Test("a wrong HLS pass-3 reply ends the association")
    func wrongHLSReply() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        let aare = try meter.answer(try client.associationRequest(), from: 1)
        _ = try #require(try client.handleAssociationResponse(aare)) // the right pass 3, not sent
        let forged = try SecuritySuite0.challengeResponse([UInt8](repeating: 0, count: 16), senderTitle: TestKeys.headEndTitle,
                                                          counter: 1000, keys: TestKeys.meter)
        let answer = try meter.send(&client) { .action(invoke: $0, MethodDescriptor(15, .currentAssociation, 1), .octetString(forged)) }
        #expect(answer.actionResult == DataAccessResult.otherReason.rawValue)
        #expect(!meter.server.isAssociated)
        let get = try client.request(.get(invoke: client.invokeByte(), Self.energy, nil))
        #expect(try meter.answer(get, from: 1) == Self.serviceNotAllowed)
    }

    @Test("before HLS pass 3 nothing but the reply is served")
    func requestBeforePass3() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        let aare = try meter.answer(try client.associationRequest(), from: 1)
        _ = try #require(try client.handleAssociationResponse(aare))
        let answer = try meter.send(&client) { .get(invoke: $0, Self.energy, nil) }
        #expect(answer.getValue == nil, "no data before authentication")
        #expect(answer.actionResult == DataAccessResult.scopeOfAccessViolated.rawValue || answer.getFailure == DataAccessResult.scopeOfAccessViolated.rawValue)
        #expect(!meter.server.isAssociated)
    }

    @Test("the public client may not SET or ACTION: read-write-denied")
    func publicWriteDenied() throws {
        var meter = TestMeter()
        var client = try meter.openPublic()
        let set = try meter.send(&client) { .set(invoke: $0, Self.energy, .doubleLongUnsigned(1)) }
        #expect(set.setResult == DataAccessResult.readWriteDenied.rawValue)
        let action = try meter.send(&client) { .action(invoke: $0, MethodDescriptor(3, TestDevice.register, 1), .integer(0)) }
        #expect(action.actionResult == DataAccessResult.readWriteDenied.rawValue)
        #expect(meter.device.energy == 123_456)
    }

    @Test("an AARQ from a client SAP the meter does not know gets result 1", arguments: [UInt16(0), 2, 0x20, 0x66, 0xFFFF])
    func unknownSAP(_ sap: UInt16) throws {
        var meter = TestMeter()
        let aare = try AssociationResponse.decode(try meter.answer(AssociationTests.guruxAARQ, from: sap))
        #expect(aare.result == 1)
        #expect(!meter.server.isAssociated)
        #expect(try meter.answer(XDLMSRequest.get(invoke: 0xC1, Self.energy, nil).encoded, from: sap) == Self.serviceNotAllowed)
    }

    @Test("a client on the wrong SAP for its AARQ is refused: context not supported (diagnostic 2)")
    func aarqOnWrongSAP() throws {
        var meter = TestMeter()
        let publicOnManagement = try AssociationResponse.decode(try meter.answer(AssociationTests.guruxAARQ, from: 1))
        #expect(publicOnManagement.result == 1 && publicOnManagement.diagnostic == 2)
        var client = TestMeter.managementClient()
        let managementOnPublic = try AssociationResponse.decode(try meter.answer(try client.associationRequest(), from: 16))
        #expect(managementOnPublic.result == 1 && managementOnPublic.diagnostic == 2)
        #expect(!meter.server.isAssociated)
    }

    @Test("requests before any association get an exception, plain or ciphered")
    func beforeAssociation() throws {
        var meter = TestMeter()
        let plain = XDLMSRequest.get(invoke: 0xC1, Self.energy, nil).encoded
        #expect(try meter.answer(plain, from: 16) == Self.serviceNotAllowed)
        var client = TestMeter.managementClient()
        let ciphered = try client.request(.get(invoke: client.invokeByte(), Self.energy, nil))
        #expect(try meter.answer(ciphered, from: 1) == Self.serviceNotAllowed)
        let empty = meter.server.handle([], fromClientSAP: 16)
        #expect(empty == nil, "an empty APDU closes the connection")
    }

    @Test("an open association serves only its own SAP, and the management one only ciphered APDUs")
    func wrongSAPOrPlain() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        try meter.openManagement(&client)
        let plain = XDLMSRequest.get(invoke: 0xC1, Self.energy, nil).encoded
        #expect(try meter.answer(plain, from: 16) == Self.serviceNotAllowed)
        #expect(try meter.answer(plain, from: 1) == Self.decipheringError)
        #expect(meter.server.isAssociated)
    }

    @Test("after RLRQ the meter answers RLRE and refuses GET", arguments: [false, true])
    func release(_ management: Bool) throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        if management { try meter.openManagement(&client) } else { client = try meter.openPublic() }
        let before = try meter.send(&client) { .get(invoke: $0, Self.energy, nil) }
        #expect(before.getValue == .doubleLongUnsigned(123_456))
        #expect(try meter.answer(Release.request, from: client.clientSAP) == Release.response)
        #expect(!meter.server.isAssociated)
        let get = try client.request(.get(invoke: client.invokeByte(), Self.energy, nil))
        let after = try meter.answer(get, from: client.clientSAP)
        #expect(after == Self.serviceNotAllowed)
        #expect(try client.response(after) == .exception(state: 1, service: 2))
    }
}
