import Foundation
import STSDLMS

/// Where a connected meter listens and how the head-end authenticates to it.
public struct MeterEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The meter's system title (8 bytes), checked against its AARE.
    public var serverTitle: [UInt8]
    /// The head-end's system title (8 bytes).
    public var clientTitle: [UInt8]
    public var keys: SecurityKeys
    public init(host: String, port: Int, serverTitle: [UInt8], clientTitle: [UInt8], keys: SecurityKeys) {
        self.host = host; self.port = port; self.serverTitle = serverTitle; self.clientTitle = clientTitle; self.keys = keys
    }
}

/// An open, authenticated management association with one meter: typed reads, writes and
/// calls, GET block transfer followed to the end. Not thread-safe; one per connection.
public final class MeterAssociation {
    let socket: MeterLinkSocket
    var session: ClientSession
    /// The invocation counter the next association should start at.
    public var nextCounter: UInt32 { session.counter }

    /// Opens the management association (HLS-GMAC) starting at invocation counter `counter`,
    /// which the caller must never have used before (``HeadEnd`` takes it from a window
    /// reserved in the station database).
    public init(_ e: MeterEndpoint, counter: UInt32, timeout: Double = 5) throws(DLMSError) {
        socket = try MeterLinkSocket(host: e.host, port: e.port, clientSAP: 1, timeout: timeout)
        session = ClientSession(.management(keys: e.keys, clientTitle: e.clientTitle), counter: counter)
        session.expectedServerTitle = e.serverTitle
        let aarq = try session.associationRequest()
        guard let pass3 = try session.handleAssociationResponse(try socket.exchange(aarq)) else { throw .authenticationFailed }
        try session.handleAuthenticationResponse(try socket.exchange(pass3))
    }

    /// The last invocation counter the meter accepted from the management client (public read).
    public static func readCounter(_ e: MeterEndpoint, timeout: Double = 5) throws(DLMSError) -> UInt32 {
        let s = try MeterLinkSocket(host: e.host, port: e.port, clientSAP: 16, timeout: timeout)
        var pub = ClientSession(.publicClient)
        _ = try pub.handleAssociationResponse(try s.exchange(try pub.associationRequest()))
        let answer = try pub.response(try s.exchange(try pub.request(.get(invoke: pub.invokeByte(), AttributeDescriptor(1, .invocationCounter, 2), nil))))
        _ = try? s.exchange(Release.request)
        guard case .get(_, .data(.doubleLongUnsigned(let c))) = answer else { throw .malformed("invocation counter") }
        return c
    }

    /// Reads one attribute (following block transfer).
    public func get(_ d: AttributeDescriptor, selection: AccessSelection? = nil) throws(DLMSError) -> DataValue {
        var answer = try session.response(try socket.exchange(try session.request(.get(invoke: session.invokeByte(), d, selection))))
        var raw: [UInt8] = []
        var expected: UInt32 = 1
        while true {
            switch answer {
            case .get(_, .data(let v)): return v
            case .get(_, .failure(let code)): throw .accessResult(code)
            case .getBlock(_, let last, let block, let bytes):
                // Blocks run 1, 2, 3 … and carry data: a meter cannot keep us in the loop.
                guard block == expected, !bytes.isEmpty, expected <= 10_000 else { throw .malformed("block \(block) where \(expected) was due") }
                expected += 1
                raw += bytes
                guard raw.count <= 16 << 20 else { throw .tooLarge("long GET") }
                if last { return try DataValue.decode(raw) }
                answer = try session.response(try socket.exchange(try session.request(.getNext(invoke: session.invokeByte(), block: block))))
            case .getBlockFailure(_, _, let code): throw .accessResult(code)
            case .exception(let s, let e): throw .peerError("exception \(s) \(e)")
            default: throw .malformed("unexpected answer to GET")
            }
        }
    }

    /// Reads several attributes in one GET-with-list.
    public func get(_ list: [AttributeDescriptor]) throws(DLMSError) -> [GetResult] {
        let answer = try session.response(try socket.exchange(try session.request(.getList(invoke: session.invokeByte(), list))))
        guard case .getList(_, let results) = answer, results.count == list.count else { throw .malformed("unexpected answer to GET with list") }
        return results
    }

    /// Writes one attribute.
    public func set(_ d: AttributeDescriptor, _ value: DataValue) throws(DLMSError) {
        let answer = try session.response(try socket.exchange(try session.request(.set(invoke: session.invokeByte(), d, value))))
        guard case .set(_, let code) = answer else { throw .malformed("unexpected answer to SET") }
        guard code == 0 else { throw .accessResult(code) }
    }

    /// Calls a method; returns its return data.
    @discardableResult
    public func action(_ m: MethodDescriptor, _ parameters: DataValue?) throws(DLMSError) -> DataValue? {
        let answer = try session.response(try socket.exchange(try session.request(.action(invoke: session.invokeByte(), m, parameters))))
        guard case .action(_, let code, let ret) = answer else { throw .malformed("unexpected answer to ACTION") }
        guard code == 0 else { throw .accessResult(code) }
        if case .data(let v)? = ret { return v }
        if case .failure(let c)? = ret { throw .accessResult(c) }
        return nil
    }

    /// Ends the association (RLRQ) and closes the connection.
    public func release() { _ = try? socket.exchange(Release.request) }
}
