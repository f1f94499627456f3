import Foundation
import STSDLMS

/// The meter's DLMS server session over an in-memory object model: whatever arrives, it answers
/// within the wrapper's limit or closes, and never crashes.
enum DLMSFixture {
    final class Device: CosemDevice, ServerSecurityContext, @unchecked Sendable {
        let lock = NSLock()
        var last: UInt32 = 0
        var next: UInt32 = 1
        let systemTitle: [UInt8] = Array("FUZZMETR".utf8)
        let keys = SecurityKeys(blockCipherKey: Array(repeating: 0x11, count: 16), authenticationKey: Array(repeating: 0x22, count: 16))!
        var lastAcceptedClientCounter: UInt32 { lock.withLock { last } }
        func accept(clientCounter counter: UInt32) throws(DLMSError) {
            lock.lock(); defer { lock.unlock() }
            guard counter > last else { throw .replayed(counter: counter, lastAccepted: last) }
            last = counter
        }
        func nextServerCounter() throws(DLMSError) -> UInt32 { lock.withLock { next += 1; return next } }
        func objects(for role: ClientRole) -> [CosemObjectInfo] {
            [CosemObjectInfo(classId: 1, version: 0, instance: .invocationCounter, attributes: [.read, .read], methods: []),
             CosemObjectInfo(classId: 7, version: 1, instance: .loadProfile, attributes: Array(repeating: .read, count: 8), methods: [])]
        }
        func get(_ a: AttributeDescriptor, selection: AccessSelection?, role: ClientRole) -> GetResult {
            switch (a.instance, a.attribute) {
            case (.invocationCounter, 2): return .data(.doubleLongUnsigned(lastAcceptedClientCounter))
            case (.loadProfile, 2): return .data(.array((0..<300).map { .structure([.octetString(COSEMTime.dateTime(Int64($0) * 900)), .doubleLongUnsigned(UInt32($0))]) }))
            default: return .failure(DataAccessResult.objectUndefined.rawValue)
            }
        }
        func set(_ a: AttributeDescriptor, value: DataValue, role: ClientRole) -> UInt8 { DataAccessResult.readWriteDenied.rawValue }
        func action(_ m: MethodDescriptor, parameters: DataValue?, role: ClientRole) -> (result: UInt8, returned: GetResult?) {
            (DataAccessResult.readWriteDenied.rawValue, nil)
        }
    }

    static func run(_ data: [UInt8]) {
        let device = Device()
        var session = ServerSession(device: device, security: device)
        session.makeChallenge = { Array(repeating: 0x33, count: 16) }
        var i = 0
        while i + 2 <= data.count {
            let n = Int(data[i]) << 8 | Int(data[i + 1])
            i += 2
            let end = min(data.count, i + n)
            let apdu = Array(data[i..<end])
            i = end
            _ = try? DataValue.decode(apdu)
            _ = try? XDLMSRequest.decode(apdu)
            _ = try? XDLMSResponse.decode(apdu)
            _ = try? AssociationRequest.decode(apdu)
            _ = try? AssociationResponse.decode(apdu)
            _ = try? InitiateRequest.decode(apdu)
            var buffer = apdu
            _ = try? WrapperFrame.take(from: &buffer)
            let sap: UInt16 = (apdu.first ?? 0) & 1 == 0 ? 16 : 1
            guard let answer = session.handle(apdu, fromClientSAP: sap) else { continue }
            if answer.count > WrapperFrame.maximumAPDU { fatalError("an answer beyond the wrapper's limit") }
            // A value the session encoded decodes again.
            if answer.first == 0xC4, case .get(_, .data(let v))? = try? XDLMSResponse.decode(answer) {
                guard (try? DataValue.decode(v.encoded)) == v else { fatalError("an answer's data does not decode to itself") }
            }
        }
    }
}
