import Foundation
import STSDLMS
import Testing

/// The titles and keys of the test meter and head-end: none of them a well-known default
/// (gurux's 00 01 … 0F / D0 D1 … DF), so a test that passes cannot be passing on defaults.
enum TestKeys {
    static let meter = SecurityKeys(blockCipherKey: [UInt8](repeating: 0x11, count: 16),
                                    authenticationKey: [UInt8](repeating: 0x22, count: 16))!
    static let wrongAuthentication = SecurityKeys(blockCipherKey: [UInt8](repeating: 0x11, count: 16),
                                                  authenticationKey: [UInt8](repeating: 0x33, count: 16))!
    static let wrongBlockCipher = SecurityKeys(blockCipherKey: [UInt8](repeating: 0x44, count: 16),
                                               authenticationKey: [UInt8](repeating: 0x22, count: 16))!
    static let meterTitle = Array("TESTMETR".utf8)
    static let headEndTitle = Array("TESTHEAD".utf8)
    /// The meter's HLS challenge (StoC), fixed so runs repeat.
    static let meterChallenge = [UInt8](repeating: 0x5A, count: 16)
    /// The head-end's HLS challenge (CtoS).
    static let headEndChallenge = [UInt8](repeating: 0xA5, count: 16)
}

/// A device with two objects: a Data object holding a 5000-byte octet-string (more than one
/// APDU: block transfer) and an energy register with a reset method.
final class TestDevice: CosemDevice, @unchecked Sendable {
    static let blob = ObisCode(0, 0, 96, 1, 0, 255)
    static let register = ObisCode.activeEnergyImport
    static let bigValue: [UInt8] = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    static let scalerUnit = DataValue.structure([.integer(0), .enumerated(30)]) // 10^0 Wh

    private let lock = NSLock()
    private var energyWh: UInt32 = 123_456

    /// The register's value now.
    var energy: UInt32 { lock.lock(); defer { lock.unlock() }; return energyWh }

    func objects(for role: ClientRole) -> [CosemObjectInfo] {
        let m = role == .management
        return [
            CosemObjectInfo(classId: 1, version: 0, instance: Self.blob, attributes: [.read, .read], methods: []),
            CosemObjectInfo(classId: 3, version: 0, instance: Self.register, attributes: [.read, m ? .readWrite : .read, .read], methods: [m]),
        ]
    }

    func get(_ a: AttributeDescriptor, selection: AccessSelection?, role: ClientRole) -> GetResult {
        lock.lock(); defer { lock.unlock() }
        switch (a.classId, a.instance, a.attribute) {
        case (1, TestDevice.blob, 1): return .data(.octetString(Self.blob.bytes))
        case (1, TestDevice.blob, 2): return .data(.octetString(Self.bigValue))
        case (3, TestDevice.register, 1): return .data(.octetString(Self.register.bytes))
        case (3, TestDevice.register, 2): return .data(.doubleLongUnsigned(energyWh))
        case (3, TestDevice.register, 3): return .data(Self.scalerUnit)
        default: return .failure(DataAccessResult.objectUndefined.rawValue)
        }
    }

    func set(_ a: AttributeDescriptor, value: DataValue, role: ClientRole) -> UInt8 {
        lock.lock(); defer { lock.unlock() }
        guard role == .management, a.classId == 3, a.instance == Self.register, a.attribute == 2 else {
            return DataAccessResult.readWriteDenied.rawValue
        }
        guard case .doubleLongUnsigned(let v) = value else { return DataAccessResult.typeUnmatched.rawValue }
        energyWh = v
        return DataAccessResult.success.rawValue
    }

    func action(_ method: MethodDescriptor, parameters: DataValue?, role: ClientRole) -> (result: UInt8, returned: GetResult?) {
        lock.lock(); defer { lock.unlock() }
        guard method.classId == 3, method.instance == Self.register, method.method == 1 else {
            return (DataAccessResult.objectUndefined.rawValue, nil)
        }
        guard role == .management else { return (DataAccessResult.readWriteDenied.rawValue, nil) }
        guard parameters == .integer(0) else { return (DataAccessResult.typeUnmatched.rawValue, nil) }
        energyWh = 0 // reset
        return (DataAccessResult.success.rawValue, nil)
    }
}

/// The meter's security context in memory: the two counters behind one lock.
final class TestSecurity: ServerSecurityContext, @unchecked Sendable {
    let systemTitle = TestKeys.meterTitle
    let keys: SecurityKeys
    private let lock = NSLock()
    private var lastClient: UInt32 = 0
    private var nextServer: UInt32 = 1

    init(keys: SecurityKeys = TestKeys.meter) { self.keys = keys }

    var lastAcceptedClientCounter: UInt32 { lock.lock(); defer { lock.unlock() }; return lastClient }

    func accept(clientCounter counter: UInt32) throws(DLMSError) {
        lock.lock(); defer { lock.unlock() }
        guard counter > lastClient else { throw .replayed(counter: counter, lastAccepted: lastClient) }
        lastClient = counter
    }

    func nextServerCounter() throws(DLMSError) -> UInt32 {
        lock.lock(); defer { lock.unlock() }
        guard nextServer < UInt32.max else { throw .tooLarge("server invocation counter exhausted") }
        defer { nextServer += 1 }
        return nextServer
    }
}

/// One meter connection: the device, its security context and the server session, with the
/// steps a head-end takes driven through `ClientSession`.
struct TestMeter {
    let device: TestDevice
    let security: TestSecurity
    var server: ServerSession

    init(keys: SecurityKeys = TestKeys.meter) {
        let device = TestDevice(), security = TestSecurity(keys: keys)
        self.device = device
        self.security = security
        var server = ServerSession(device: device, security: security)
        server.makeChallenge = { TestKeys.meterChallenge }
        self.server = server
    }

    /// A management client (SAP 1) that expects this meter's title.
    static func managementClient(keys: SecurityKeys = TestKeys.meter, counter: UInt32 = 1) -> ClientSession {
        var client = ClientSession(.management(keys: keys, clientTitle: TestKeys.headEndTitle), counter: counter,
                                   challenge: TestKeys.headEndChallenge)
        client.expectedServerTitle = TestKeys.meterTitle
        return client
    }

    /// The meter's answer to `apdu` from client SAP `sap` (never "close the connection" here).
    mutating func answer(_ apdu: [UInt8], from sap: UInt16) throws -> [UInt8] {
        // (Computed outside #require: the macro cannot expand a mutating call.)
        let out = server.handle(apdu, fromClientSAP: sap)
        return try #require(out, "the session answers")
    }

    /// Opens a public association (SAP 16, no security).
    mutating func openPublic() throws -> ClientSession {
        var client = ClientSession(.publicClient)
        let aare = try answer(try client.associationRequest(), from: client.clientSAP)
        let pass3 = try client.handleAssociationResponse(aare)
        #expect(pass3 == nil, "no HLS for the public client")
        #expect(server.isAssociated)
        return client
    }

    /// Runs HLS-GMAC for `client`: AARQ → AARE, pass 3 → pass 4.
    mutating func openManagement(_ client: inout ClientSession) throws {
        let aare = try answer(try client.associationRequest(), from: client.clientSAP)
        let reply = try client.handleAssociationResponse(aare)
        let pass3 = try #require(reply, "HLS pass 3 follows the AARE")
        #expect(!server.isAssociated, "not associated before pass 3")
        let pass4 = try answer(pass3, from: client.clientSAP)
        try client.handleAuthenticationResponse(pass4)
        #expect(server.isAssociated)
    }

    /// Sends one request (ciphered when the client is) and returns the opened answer, which must
    /// fit the APDU size the meter negotiated.
    mutating func send(_ client: inout ClientSession, _ make: (UInt8) -> XDLMSRequest) throws -> XDLMSResponse {
        let invoke = client.invokeByte()
        let apdu = try client.request(make(invoke))
        let out = try answer(apdu, from: client.clientSAP)
        #expect(out.count <= Int(ServerSession.serverMaxPDU), "answer of \(out.count) bytes")
        let response = try client.response(out)
        if case .exception = response {} else { #expect(response.invokeID == invoke, "the answer echoes the invoke id") }
        return response
    }

    /// Reads an attribute, following block transfer; returns the value and the number of blocks.
    mutating func read(_ client: inout ClientSession, _ d: AttributeDescriptor) throws -> (value: DataValue, blocks: Int) {
        var answer = try send(&client) { .get(invoke: $0, d, nil) }
        var raw: [UInt8] = []
        var blocks = 0
        while blocks < 100 {
            switch answer {
            case .get(_, .data(let v)): return (v, blocks)
            case .getBlock(_, let last, let number, let bytes):
                blocks += 1
                #expect(number == UInt32(blocks), "blocks are numbered 1, 2, 3 …")
                raw += bytes
                if last { return (try DataValue.decode(raw), blocks) }
                answer = try send(&client) { .getNext(invoke: $0, block: number) }
            default:
                Issue.record("unexpected answer to GET \(d): \(answer)")
                throw DLMSError.malformed("unexpected answer")
            }
        }
        Issue.record("more than 100 blocks")
        throw DLMSError.tooLarge("blocks")
    }
}
