import STSDLMS
import Testing

@Suite("ACSE: AARQ, AARE, RLRQ and the xDLMS initiate")
struct AssociationTests {
    /// What gurux-dlms (GXDLMSClient, no authentication) sends as the public client's AARQ.
    static let guruxAARQ = hex("60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF")
    static let guruxInitiate = hex("01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF")

    @Test("gurux's public AARQ: LN context, no title or mechanism, an InitiateRequest for 0x401E5D and 0xFFFF")
    func guruxPublicAARQ() throws {
        let aarq = try AssociationRequest.decode(Self.guruxAARQ)
        #expect(aarq.context == .logicalName)
        #expect(aarq.callingTitle == nil && aarq.mechanism == nil && aarq.callingAuthentication == nil)
        #expect(aarq.userInformation == Self.guruxInitiate)
        let initiate = try InitiateRequest.decode(aarq.userInformation)
        #expect(initiate.conformance.rawValue == 0x401E5D)
        #expect(initiate.maxReceivePDUSize == 0xFFFF)
        #expect(initiate.dlmsVersion == 6)
        #expect(initiate.conformance.isSuperset(of: .meter), "gurux proposes every service the meter offers")
        #expect(initiate.conformance.intersection(.meter) == .meter)
        #expect(aarq.encoded == Self.guruxAARQ, "encoding what was decoded gives gurux's bytes back")
        #expect(initiate.encoded == Self.guruxInitiate)
    }

    @Test("conformance bits are numbered from the most significant bit (Green Book)")
    func conformanceBits() {
        #expect(Conformance.blockTransferWithGet.rawValue == 0x001000)  // bit 11
        #expect(Conformance.multipleReferences.rawValue == 0x000200)    // bit 14
        #expect(Conformance.get.rawValue == 0x000010)                   // bit 19
        #expect(Conformance.set.rawValue == 0x000008)                   // bit 20
        #expect(Conformance.selectiveAccess.rawValue == 0x000004)       // bit 21
        #expect(Conformance.action.rawValue == 0x000001)                // bit 23
        #expect(Conformance.meter.rawValue == 0x00121D)
        #expect(Conformance(rawValue: 0xFF00_0001).rawValue == 0x000001, "only 24 bits")
    }

    @Test("a management AARQ: every field in place and back")
    func managementAARQ() throws {
        let aarq = AssociationRequest(context: .logicalNameCiphered, callingTitle: TestKeys.headEndTitle, mechanism: .highGMAC,
                                      callingAuthentication: [UInt8](repeating: 0x42, count: 16), userInformation: [0x21, 0x03, 0x01, 0x02, 0x03])
        let expected = hex("""
            60 41 A1 09 06 07 60 85 74 05 08 01 03 A6 0A 04 08 54 45 53 54 48 45 41 44 8A 02 07 80
            8B 07 60 85 74 05 08 02 05 AC 12 80 10 42 42 42 42 42 42 42 42 42 42 42 42 42 42 42 42
            BE 07 04 05 21 03 01 02 03
            """)
        #expect(aarq.encoded == expected)
        #expect(try AssociationRequest.decode(expected) == aarq)
    }

    @Test("AARQs that are not AARQs, or lack what the meter needs, are refused")
    func badAARQ() {
        #expect(throws: DLMSError.malformed("not an AARQ")) { try AssociationRequest.decode(hex("61 00")) }
        #expect(throws: DLMSError.malformed("not an AARQ")) { try AssociationRequest.decode([]) }
        #expect(throws: DLMSError.truncated) { try AssociationRequest.decode(Array(Self.guruxAARQ.dropLast())) }
        #expect(throws: DLMSError.malformed("AARQ without user-information")) {
            try AssociationRequest.decode(hex("60 0B A1 09 06 07 60 85 74 05 08 01 01"))
        }
        #expect(throws: DLMSError.malformed("AARQ without an application context")) {
            try AssociationRequest.decode(hex("60 12 BE 10 04 0E 01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF"))
        }
        var shortNames = Self.guruxAARQ
        shortNames[12] = 0x02 // 2.16.756.5.8.1.2: short-name referencing
        #expect(throws: DLMSError.unsupported("application context")) { try AssociationRequest.decode(shortNames) }
        #expect(throws: DLMSError.unsupported("multi-byte BER tag")) { try AssociationRequest.decode(hex("60 03 1F 01 00")) }
        #expect(throws: DLMSError.unsupported("authentication mechanism")) {
            try AssociationRequest.decode(hex("60 16 A1 09 06 07 60 85 74 05 08 01 01 8B 07 60 85 74 05 08 02 09 BE 00"))
        }
    }

    @Test("InitiateRequest refusals: another APDU, a dedicated key, a missing conformance block")
    func badInitiate() {
        #expect(throws: DLMSError.malformed("not an InitiateRequest")) { try InitiateRequest.decode(hex("08 00 06 5F 1F 04 00 00 12 1D 08 00 00 07")) }
        #expect(throws: DLMSError.unsupported("dedicated key")) { try InitiateRequest.decode(hex("01 01 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F")) }
        #expect(throws: DLMSError.malformed("conformance block")) { try InitiateRequest.decode(hex("01 00 00 00 06 5F 1F 03 00 40 1E 5D FF FF")) }
        #expect(throws: DLMSError.truncated) { try InitiateRequest.decode(Array(Self.guruxInitiate.dropLast())) }
        #expect(throws: DLMSError.truncated) { try InitiateRequest.decode([]) }
    }

    @Test("the accepted public AARE, byte for byte (gurux parses these bytes), and back")
    func publicAARE() throws {
        let initiate = InitiateResponse(conformance: .meter, maxReceivePDUSize: 2048)
        #expect(initiate.encoded == hex("08 00 06 5F 1F 04 00 00 12 1D 08 00 00 07"))
        #expect(try InitiateResponse.decode(initiate.encoded) == initiate)
        let aare = AssociationResponse(result: 0, diagnostic: 0, context: .logicalName, userInformation: initiate.encoded)
        let expected = hex("""
            61 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01 00 A3 05 A1 03 02 01 00
            BE 10 04 0E 08 00 06 5F 1F 04 00 00 12 1D 08 00 00 07
            """)
        #expect(aare.encoded == expected)
        #expect(try AssociationResponse.decode(expected) == aare)
    }

    @Test("AARE round trips: HLS pass 2 with every field, a rejection with none", arguments: [
        AssociationResponse(result: 0, diagnostic: 14, context: .logicalNameCiphered, respondingTitle: TestKeys.meterTitle,
                            mechanism: .highGMAC, respondingAuthentication: TestKeys.meterChallenge,
                            userInformation: [0x28, 0x03, 0x30, 0x00, 0x01]),
        AssociationResponse(result: 1, diagnostic: 13, context: .logicalNameCiphered, respondingTitle: TestKeys.meterTitle),
        AssociationResponse(result: 2, diagnostic: 1, context: .logicalName),
        AssociationResponse(result: 1, diagnostic: 1, context: .logicalName, userInformation: [0x0E, 0x01, 0x06, 0x03]),
    ])
    func aareRoundTrip(_ aare: AssociationResponse) throws {
        #expect(try AssociationResponse.decode(aare.encoded) == aare)
    }

    @Test("AARE refusals and the initiate error it can carry")
    func badAARE() {
        #expect(throws: DLMSError.malformed("not an AARE")) { try AssociationResponse.decode(Self.guruxAARQ) }
        #expect(throws: DLMSError.malformed("AARE without a result")) {
            try AssociationResponse.decode(hex("61 0B A1 09 06 07 60 85 74 05 08 01 01"))
        }
        #expect(throws: DLMSError.malformed("AARE result")) {
            try AssociationResponse.decode(hex("61 06 A2 04 02 02 00 00"))
        }
        #expect(throws: DLMSError.peerError("initiate refused: 1 6 3")) { try InitiateResponse.decode([0x0E, 0x01, 0x06, 0x03]) }
        #expect(throws: DLMSError.malformed("not an InitiateResponse")) { try InitiateResponse.decode(Self.guruxInitiate) }
    }

    @Test("release request and response: reason normal")
    func release() {
        #expect(Release.request == [0x62, 0x03, 0x80, 0x01, 0x00])
        #expect(Release.response == [0x63, 0x03, 0x80, 0x01, 0x00])
    }
}
