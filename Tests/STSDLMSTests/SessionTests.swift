import STSDLMS
import Testing

/// ServerSession driven by ClientSession, APDU by APDU, with the in-memory device of
/// `TestMeter.swift`: what a head-end sees of a meter.
@Suite("ServerSession and ClientSession end to end")
struct SessionTests {
    static let energy = AttributeDescriptor(3, TestDevice.register, 2)
    static let blob = AttributeDescriptor(1, TestDevice.blob, 2)

    @Test("public client: association, GET, GET-with-list, the current association")
    func publicClient() throws {
        var meter = TestMeter()
        var client = try meter.openPublic()
        #expect(client.serverMaxPDU == ServerSession.serverMaxPDU)

        let energy = try meter.send(&client) { .get(invoke: $0, Self.energy, nil) }
        #expect(energy.getValue == .doubleLongUnsigned(123_456))
        let scaler = try meter.send(&client) { .get(invoke: $0, AttributeDescriptor(3, TestDevice.register, 3), nil) }
        #expect(scaler.getValue == .structure([.integer(0), .enumerated(30)]))
        let missing = try meter.send(&client) { .get(invoke: $0, AttributeDescriptor(1, ObisCode(0, 0, 96, 99, 0, 255), 2), nil) }
        #expect(missing.getFailure == DataAccessResult.objectUndefined.rawValue)

        let name = try meter.send(&client) { .get(invoke: $0, AttributeDescriptor(15, .currentAssociation, 1), nil) }
        #expect(name.getValue == .octetString(ObisCode.currentAssociation.bytes))
        let partners = try meter.send(&client) { .get(invoke: $0, AttributeDescriptor(15, .currentAssociation, 3), nil) }
        #expect(partners.getValue == .structure([.integer(16), .longUnsigned(1)]))
        let objects = try meter.send(&client) { .get(invoke: $0, AttributeDescriptor(15, .currentAssociation, 2), nil) }
        let list = try #require(objects.getValue?.items)
        #expect(list.count == 1 + meter.device.objects(for: .publicClient).count, "the association itself, then the device's objects")
        #expect(list.first?.items?[2] == .octetString(ObisCode.currentAssociation.bytes))

        let both = try meter.send(&client) { .getList(invoke: $0, [Self.energy, AttributeDescriptor(15, .currentAssociation, 1)]) }
        #expect(both.listResults == [.data(.doubleLongUnsigned(123_456)), .data(.octetString(ObisCode.currentAssociation.bytes))])
    }

    @Test("public client: a 5000-byte value comes in blocks and reassembles")
    func publicLongGet() throws {
        var meter = TestMeter()
        var client = try meter.openPublic()
        let read = try meter.read(&client, Self.blob)
        #expect(read.value == .octetString(TestDevice.bigValue))
        #expect(read.blocks >= 3, "5004 encoded bytes do not fit two 2048-byte APDUs")
    }

    @Test("management client: HLS-GMAC, a GET in several blocks, SET, ACTION")
    func management() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        try meter.openManagement(&client)
        #expect(client.serverTitle == TestKeys.meterTitle)
        #expect(client.serverMaxPDU == ServerSession.serverMaxPDU)
        #expect(meter.security.lastAcceptedClientCounter == client.counter - 1, "the meter saw the client's last counter")
        #expect(client.lastServerCounter != nil)

        let long = try meter.read(&client, Self.blob)
        #expect(long.value == .octetString(TestDevice.bigValue))
        #expect(long.blocks >= 3)

        let set = try meter.send(&client) { .set(invoke: $0, Self.energy, .doubleLongUnsigned(42)) }
        #expect(set.setResult == DataAccessResult.success.rawValue)
        #expect(meter.device.energy == 42)
        let after = try meter.read(&client, Self.energy)
        #expect(after.value == .doubleLongUnsigned(42) && after.blocks == 0)
        let wrongType = try meter.send(&client) { .set(invoke: $0, Self.energy, .unsigned(1)) }
        #expect(wrongType.setResult == DataAccessResult.typeUnmatched.rawValue)

        let reset = try meter.send(&client) { .action(invoke: $0, MethodDescriptor(3, TestDevice.register, 1), .integer(0)) }
        if case .action(_, 0, nil) = reset {} else { Issue.record("expected success with nothing returned, got \(reset)") }
        #expect(meter.device.energy == 0)
        let unknown = try meter.send(&client) { .action(invoke: $0, MethodDescriptor(3, TestDevice.register, 9), nil) }
        #expect(unknown.actionResult == DataAccessResult.objectUndefined.rawValue)

        let mechanism = try meter.send(&client) { .get(invoke: $0, AttributeDescriptor(15, .currentAssociation, 6), nil) }
        #expect(mechanism.getValue == .octetString([0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x05]), "HLS-GMAC")
    }

    @Test("management APDUs are ciphered both ways (glo-get 0xC8 → glo-get-response 0xCC), counters rise")
    func cipheredOnTheWire() throws {
        var meter = TestMeter()
        var client = TestMeter.managementClient()
        try meter.openManagement(&client)
        var serverCounters: [UInt32] = []
        for _ in 0..<3 {
            let apdu = try client.request(.get(invoke: client.invokeByte(), Self.energy, nil))
            #expect(apdu.first == 0xC8 && !apdu.contains(subsequence: TestDevice.register.bytes), "the OBIS code is not in clear")
            let answer = try meter.answer(apdu, from: 1)
            #expect(answer.first == 0xCC)
            serverCounters.append(try cipheredCounter(answer))
            let opened = try client.response(answer)
            #expect(opened.getValue == .doubleLongUnsigned(123_456))
            let sent = try cipheredCounter(apdu)
            #expect(meter.security.lastAcceptedClientCounter == sent)
        }
        #expect(serverCounters == serverCounters.sorted() && Set(serverCounters).count == 3)
    }

    @Test("the AARQs gurux-dlms sends are accepted: the public one, and the ciphered HLS-GMAC one for these keys")
    func guruxAARQs() throws {
        var meter = TestMeter()
        let aare = try AssociationResponse.decode(try meter.answer(AssociationTests.guruxAARQ, from: 16))
        #expect(aare.result == 0 && aare.diagnostic == 0 && aare.context == .logicalName)
        let initiate = try InitiateResponse.decode(try #require(aare.userInformation))
        #expect(initiate.conformance == .meter && initiate.maxReceivePDUSize == ServerSession.serverMaxPDU)

        // GXDLMSSecureClient, HLS-GMAC, authentication and encryption, system title TESTHEAD,
        // block cipher key 11…11, authentication key 22…22, invocation counter 1, a random CtoS.
        let ciphered = hex("""
            60 5D A1 09 06 07 60 85 74 05 08 01 03 A6 0A 04 08 54 45 53 54 48 45 41 44 8A 02 07 80 8B 07 60 85 74 05 08 02 05
            AC 12 80 10 7F 9A 48 61 5F DD F6 98 59 81 1A 46 0C 2F B7 2E BE 23 04 21 21 1F 30 00 00 00 01 0B 00 6D 15 12 9E
            D6 6E 35 4C 27 68 BE 90 AC 4F B7 BF D7 7A 61 41 07 0B 32 62
            """)
        var management = TestMeter()
        let pass2 = try AssociationResponse.decode(try management.answer(ciphered, from: 1))
        #expect(pass2.result == 0 && pass2.diagnostic == 14, "accepted, authentication required (pass 3 follows)")
        #expect(pass2.mechanism == .highGMAC && pass2.respondingAuthentication == TestKeys.meterChallenge)
        #expect(pass2.respondingTitle == TestKeys.meterTitle)
        #expect(management.security.lastAcceptedClientCounter == 1)
        let user = try #require(pass2.userInformation)
        #expect(user.first == 0x28, "glo-initiateResponse")
        var r = ByteReader(user, start: 1)
        let content = try r.take(try r.length())
        let opened = try SecuritySuite0.unprotect(content, senderTitle: TestKeys.meterTitle, keys: TestKeys.meter)
        #expect(try InitiateResponse.decode(opened.apdu).conformance == .meter)
    }

    @Test("block transfer: asking for the wrong block aborts the long GET; getNext without one is refused")
    func blockErrors() throws {
        var meter = TestMeter()
        var client = try meter.openPublic()
        let first = try meter.send(&client) { .get(invoke: $0, Self.blob, nil) }
        guard case .getBlock(_, false, 1, let raw) = first else { Issue.record("expected block 1, got \(first)"); return }
        #expect(!raw.isEmpty)
        let wrong = try meter.send(&client) { .getNext(invoke: $0, block: 5) }
        guard case .getBlockFailure(_, 5, let code) = wrong else { Issue.record("expected a block failure, got \(wrong)"); return }
        #expect(code == DataAccessResult.longGetAborted.rawValue)
        let none = try meter.send(&client) { .getNext(invoke: $0, block: 1) }
        guard case .getBlockFailure(_, 1, let code2) = none else { Issue.record("expected a block failure, got \(none)"); return }
        #expect(code2 == DataAccessResult.noLongGetInProgress.rawValue)
    }

    @Test("a GET-with-list answer keeps to the negotiated APDU size")
    func longListAnswer() throws {
        var meter = TestMeter()
        var client = try meter.openPublic()
        let apdu = try client.request(.getList(invoke: client.invokeByte(), [Self.blob, Self.blob]))
        let answer = try meter.answer(apdu, from: 16)
        // A list answer beyond the negotiated size comes in blocks (the first one here).
        #expect(answer.count <= Int(ServerSession.serverMaxPDU))
        #expect(Array(answer.prefix(4)) == [0xC4, 0x02, apdu[2], 0x00])
    }
}

extension Array where Element == UInt8 {
    /// Whether `part` occurs in the array.
    func contains(subsequence part: [UInt8]) -> Bool {
        guard !part.isEmpty, part.count <= count else { return part.isEmpty }
        return (0...(count - part.count)).contains { Array(self[$0..<($0 + part.count)]) == part }
    }
}
