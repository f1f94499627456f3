import STSDLMS
import Testing

/// The plain xDLMS requests and responses, bytes worked out by hand from the Green Book's
/// GET/SET/ACTION encodings (invoke-id-and-priority 0xC1 throughout).
@Suite("xDLMS GET, SET, ACTION and exception encodings")
struct ServicesTests {
    static let energy = AttributeDescriptor(3, .activeEnergyImport, 2)
    static let clockTime = AttributeDescriptor(8, .clock, 2)

    static let requests: [(XDLMSRequest, String)] = [
        (.get(invoke: 0xC1, energy, nil), "C0 01 C1 00 03 01 00 01 08 00 FF 02 00"),
        (.get(invoke: 0xC1, AttributeDescriptor(7, .loadProfile, 2),
              AccessSelection(selector: 2, parameters: .structure([.doubleLongUnsigned(1), .doubleLongUnsigned(0), .longUnsigned(1), .longUnsigned(0)]))),
         "C0 01 C1 00 07 01 00 63 01 00 FF 02 01 02 02 04 06 00 00 00 01 06 00 00 00 00 12 00 01 12 00 00"),
        (.getNext(invoke: 0xC1, block: 1), "C0 02 C1 00 00 00 01"),
        (.getList(invoke: 0xC1, [energy, clockTime]), "C0 03 C1 02 00 03 01 00 01 08 00 FF 02 00 00 08 00 00 01 00 00 FF 02 00"),
        (.set(invoke: 0xC1, energy, .doubleLongUnsigned(42)), "C1 01 C1 00 03 01 00 01 08 00 FF 02 00 06 00 00 00 2A"),
        (.action(invoke: 0xC1, MethodDescriptor(3, .activeEnergyImport, 1), .integer(0)), "C3 01 C1 00 03 01 00 01 08 00 FF 01 01 0F 00"),
        (.action(invoke: 0xC1, MethodDescriptor(70, .disconnectControl, 2), nil), "C3 01 C1 00 46 00 00 60 03 0A FF 02 00"),
    ]

    static let responses: [(XDLMSResponse, String)] = [
        (.get(invoke: 0xC1, .data(.doubleLongUnsigned(123_456))), "C4 01 C1 00 06 00 01 E2 40"),
        (.get(invoke: 0xC1, .failure(4)), "C4 01 C1 01 04"),
        (.getBlock(invoke: 0xC1, last: false, block: 1, raw: [1, 2, 3]), "C4 02 C1 00 00 00 00 01 00 03 01 02 03"),
        (.getBlock(invoke: 0xC1, last: true, block: 2, raw: []), "C4 02 C1 01 00 00 00 02 00 00"),
        (.getBlockFailure(invoke: 0xC1, block: 2, result: 15), "C4 02 C1 01 00 00 00 02 01 0F"),
        (.getList(invoke: 0xC1, [.data(.unsigned(1)), .failure(3)]), "C4 03 C1 02 00 11 01 01 03"),
        (.set(invoke: 0xC1, result: 0), "C5 01 C1 00"),
        (.action(invoke: 0xC1, result: 0, nil), "C7 01 C1 00 00"),
        (.action(invoke: 0xC1, result: 0, .data(.octetString([0xAA]))), "C7 01 C1 00 01 00 09 01 AA"),
        (.exception(state: 1, service: 6), "D8 01 06"),
    ]

    @Test("requests: encode to the hand-computed bytes, decode back")
    func requestsRoundTrip() throws {
        for (request, text) in Self.requests {
            #expect(request.encoded == hex(text), "\(request)")
            #expect(try XDLMSRequest.decode(hex(text)) == request)
            #expect(request.invoke == 0xC1)
        }
    }

    @Test("responses: encode to the hand-computed bytes, decode back")
    func responsesRoundTrip() throws {
        for (response, text) in Self.responses {
            #expect(response.encoded == hex(text), "\(response)")
            #expect(try XDLMSResponse.decode(hex(text)) == response)
        }
    }

    @Test("requests refused: unknown services, extra bytes, oversized lists, selective access where not allowed")
    func badRequests() {
        #expect(throws: DLMSError.unsupported("service 194 choice 1")) { try XDLMSRequest.decode(hex("C2 01 C1")) }
        #expect(throws: DLMSError.unsupported("service 192 choice 4")) { try XDLMSRequest.decode(hex("C0 04 C1")) }
        #expect(throws: DLMSError.malformed("1 bytes after the request")) { try XDLMSRequest.decode(hex("C0 01 C1 00 03 01 00 01 08 00 FF 02 00 00")) }
        #expect(throws: DLMSError.truncated) { try XDLMSRequest.decode(hex("C0 01 C1 00 03 01 00 01 08 00")) }
        #expect(throws: DLMSError.tooLarge("GET with 65 attributes")) { try XDLMSRequest.decode(hex("C0 03 C1 41") + [UInt8](repeating: 0, count: 65 * 10)) }
        #expect(throws: DLMSError.unsupported("selective access on SET")) {
            try XDLMSRequest.decode(hex("C1 01 C1 00 03 01 00 01 08 00 FF 02 01 01 00 06 00 00 00 2A"))
        }
        #expect(throws: DLMSError.unsupported("selective access in a list")) {
            try XDLMSRequest.decode(hex("C0 03 C1 01 00 03 01 00 01 08 00 FF 02 01 01 00"))
        }
    }

    @Test("responses refused or reported: confirmed-service-error, unknown responses, extra bytes")
    func badResponses() {
        #expect(throws: DLMSError.peerError("confirmed-service-error [6, 1, 0]")) { try XDLMSResponse.decode([0x0E, 0x06, 0x01, 0x00]) }
        #expect(throws: DLMSError.unsupported("response 196 choice 4")) { try XDLMSResponse.decode(hex("C4 04 C1")) }
        #expect(throws: DLMSError.malformed("2 bytes after the response")) { try XDLMSResponse.decode(hex("C5 01 C1 00 00 00")) }
        #expect(throws: DLMSError.tooLarge("list of 65")) { try XDLMSResponse.decode(hex("C4 03 C1 41")) }
    }

    @Test("the ciphered tags of the Green Book")
    func gloTags() {
        #expect(XDLMSRequest.gloTag == [0xC0: 0xC8, 0xC1: 0xC9, 0xC3: 0xCB, 0xC4: 0xCC, 0xC5: 0xCD, 0xC7: 0xCF])
    }
}
