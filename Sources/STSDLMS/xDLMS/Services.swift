/// Which attribute of which object (Cosem-Attribute-Descriptor).
public struct AttributeDescriptor: Hashable, Sendable, CustomStringConvertible {
    public var classId: UInt16
    public var instance: ObisCode
    public var attribute: Int8
    public init(_ classId: UInt16, _ instance: ObisCode, _ attribute: Int8) {
        self.classId = classId; self.instance = instance; self.attribute = attribute
    }
    public var description: String { "\(classId)/\(instance)/\(attribute)" }

    static func decode(_ r: inout ByteReader) throws(DLMSError) -> AttributeDescriptor {
        let c = try r.uint16()
        guard let o = ObisCode(bytes: try r.take(6)) else { throw .truncated }
        return AttributeDescriptor(c, o, Int8(bitPattern: try r.byte()))
    }
    func encode(into out: inout [UInt8]) { out.appendBigEndian(classId); out += instance.bytes; out.append(UInt8(bitPattern: attribute)) }
}

/// Which method of which object (Cosem-Method-Descriptor).
public struct MethodDescriptor: Hashable, Sendable {
    public var classId: UInt16
    public var instance: ObisCode
    public var method: Int8
    public init(_ classId: UInt16, _ instance: ObisCode, _ method: Int8) {
        self.classId = classId; self.instance = instance; self.method = method
    }
}

/// Selective access: a selector and its parameters.
public struct AccessSelection: Equatable, Sendable {
    public var selector: UInt8
    public var parameters: DataValue
    public init(selector: UInt8, parameters: DataValue) { self.selector = selector; self.parameters = parameters }
}

/// The result of reading one attribute: its data, or why not.
public enum GetResult: Equatable, Sendable {
    case data(DataValue)
    case failure(UInt8)
}

/// The xDLMS requests a client sends (logical-name referencing, unciphered form).
public enum XDLMSRequest: Equatable, Sendable {
    case get(invoke: UInt8, AttributeDescriptor, AccessSelection?)
    case getNext(invoke: UInt8, block: UInt32)
    case getList(invoke: UInt8, [AttributeDescriptor])
    case set(invoke: UInt8, AttributeDescriptor, DataValue)
    case action(invoke: UInt8, MethodDescriptor, DataValue?)

    /// The most attributes one GET-with-list may name.
    public static let maximumListCount = 64

    /// Tags of the ciphered (glo-) forms, by plain tag.
    public static let gloTag: [UInt8: UInt8] = [0xC0: 0xC8, 0xC1: 0xC9, 0xC3: 0xCB, 0xC4: 0xCC, 0xC5: 0xCD, 0xC7: 0xCF]

    /// The invoke-id-and-priority byte.
    public var invoke: UInt8 {
        switch self {
        case .get(let i, _, _), .getNext(let i, _), .getList(let i, _), .set(let i, _, _), .action(let i, _, _): return i
        }
    }

    /// Parses a plain request; services other than these are `unsupported`.
    public static func decode(_ b: [UInt8]) throws(DLMSError) -> XDLMSRequest {
        var r = ByteReader(b)
        let tag = try r.byte()
        let choice = try r.byte()
        let invoke = try r.byte()
        func selection(_ r: inout ByteReader) throws(DLMSError) -> AccessSelection? {
            guard try r.byte() != 0 else { return nil }
            let s = try r.byte()
            return AccessSelection(selector: s, parameters: try DataValue.decode(from: &r))
        }
        let request: XDLMSRequest
        switch (tag, choice) {
        case (0xC0, 1):
            let d = try AttributeDescriptor.decode(&r)
            request = .get(invoke: invoke, d, try selection(&r))
        case (0xC0, 2): request = .getNext(invoke: invoke, block: try r.uint32())
        case (0xC0, 3):
            let n = try r.count()
            guard n <= maximumListCount else { throw .tooLarge("GET with \(n) attributes") }
            var list: [AttributeDescriptor] = []
            for _ in 0..<n {
                list.append(try AttributeDescriptor.decode(&r))
                if try selection(&r) != nil { throw .unsupported("selective access in a list") }
            }
            request = .getList(invoke: invoke, list)
        case (0xC1, 1):
            let d = try AttributeDescriptor.decode(&r)
            if try selection(&r) != nil { throw .unsupported("selective access on SET") }
            request = .set(invoke: invoke, d, try DataValue.decode(from: &r))
        case (0xC3, 1):
            let c = try r.uint16()
            guard let o = ObisCode(bytes: try r.take(6)) else { throw .truncated }
            let m = Int8(bitPattern: try r.byte())
            let p: DataValue? = try r.byte() != 0 ? try DataValue.decode(from: &r) : nil
            request = .action(invoke: invoke, MethodDescriptor(c, o, m), p)
        default: throw .unsupported("service \(tag) choice \(choice)")
        }
        guard r.isAtEnd else { throw .malformed("\(r.remaining) bytes after the request") }
        return request
    }

    /// Its bytes (plain form).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .get(let i, let d, let s):
            out = [0xC0, 1, i]; d.encode(into: &out)
            if let s { out += [1, s.selector]; s.parameters.encode(into: &out) } else { out.append(0) }
        case .getNext(let i, let block): out = [0xC0, 2, i]; out.appendBigEndian(block)
        case .getList(let i, let list):
            out = [0xC0, 3, i]; out.appendLength(list.count)
            for d in list { d.encode(into: &out); out.append(0) }
        case .set(let i, let d, let v): out = [0xC1, 1, i]; d.encode(into: &out); out.append(0); v.encode(into: &out)
        case .action(let i, let m, let p):
            out = [0xC3, 1, i]; out.appendBigEndian(m.classId); out += m.instance.bytes; out.append(UInt8(bitPattern: m.method))
            if let p { out.append(1); p.encode(into: &out) } else { out.append(0) }
        }
        return out
    }
}

/// The xDLMS responses a meter sends.
public enum XDLMSResponse: Equatable, Sendable {
    case get(invoke: UInt8, GetResult)
    /// One block of a long GET: the raw bytes of part of the encoded data.
    case getBlock(invoke: UInt8, last: Bool, block: UInt32, raw: [UInt8])
    /// A block transfer that failed (e.g. the block asked for does not exist).
    case getBlockFailure(invoke: UInt8, block: UInt32, result: UInt8)
    case getList(invoke: UInt8, [GetResult])
    case set(invoke: UInt8, result: UInt8)
    case action(invoke: UInt8, result: UInt8, GetResult?)
    /// An exception-response: state-error and service-error.
    case exception(state: UInt8, service: UInt8)

    /// Its bytes (plain form).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        func put(_ r: GetResult, _ out: inout [UInt8]) {
            switch r {
            case .data(let v): out.append(0); v.encode(into: &out)
            case .failure(let code): out += [1, code]
            }
        }
        switch self {
        case .get(let i, let r): out = [0xC4, 1, i]; put(r, &out)
        case .getBlock(let i, let last, let block, let raw):
            out = [0xC4, 2, i, last ? 1 : 0]; out.appendBigEndian(block); out.append(0); out.appendLength(raw.count); out += raw
        case .getBlockFailure(let i, let block, let result):
            out = [0xC4, 2, i, 1]; out.appendBigEndian(block); out += [1, result]
        case .getList(let i, let results):
            out = [0xC4, 3, i]; out.appendLength(results.count); for r in results { put(r, &out) }
        case .set(let i, let result): out = [0xC5, 1, i, result]
        case .action(let i, let result, let r):
            out = [0xC7, 1, i, result]
            if let r { out.append(1); put(r, &out) } else { out.append(0) }
        case .exception(let s, let e): out = [0xD8, s, e]
        }
        return out
    }

    /// Parses a plain response.
    public static func decode(_ b: [UInt8]) throws(DLMSError) -> XDLMSResponse {
        var r = ByteReader(b)
        let tag = try r.byte()
        if tag == 0xD8 { return .exception(state: try r.byte(), service: try r.byte()) }
        if tag == 0x0E { throw .peerError("confirmed-service-error \(Array(b.dropFirst()))") }
        let choice = try r.byte()
        let invoke = try r.byte()
        func result(_ r: inout ByteReader) throws(DLMSError) -> GetResult {
            let choice = try r.byte()
            if choice == 0 { return .data(try DataValue.decode(from: &r)) }
            return .failure(try r.byte())
        }
        let response: XDLMSResponse
        switch (tag, choice) {
        case (0xC4, 1): response = .get(invoke: invoke, try result(&r))
        case (0xC4, 2):
            let last = try r.byte() != 0
            let block = try r.uint32()
            if try r.byte() == 0 { response = .getBlock(invoke: invoke, last: last, block: block, raw: try r.take(try r.length())) }
            else { response = .getBlockFailure(invoke: invoke, block: block, result: try r.byte()) }
        case (0xC4, 3):
            let n = try r.count()
            guard n <= XDLMSRequest.maximumListCount else { throw .tooLarge("list of \(n)") }
            var results: [GetResult] = []
            for _ in 0..<n { results.append(try result(&r)) }
            response = .getList(invoke: invoke, results)
        case (0xC5, 1): response = .set(invoke: invoke, result: try r.byte())
        case (0xC7, 1):
            let code = try r.byte()
            var ret: GetResult?
            if !r.isAtEnd, try r.byte() != 0 { ret = try result(&r) }
            response = .action(invoke: invoke, result: code, ret)
        default: throw .unsupported("response \(tag) choice \(choice)")
        }
        guard r.isAtEnd else { throw .malformed("\(r.remaining) bytes after the response") }
        return response
    }
}
