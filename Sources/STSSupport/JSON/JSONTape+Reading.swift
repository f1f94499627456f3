/// Reading values off a parsed tape by node index. Nothing here allocates except the
/// functions that return a `String`, `[UInt8]` or ``JSON``.
extension JSONTape {
    /// The kind of value at a node.
    public func kind(_ node: Int) -> Kind { nodes[node].kind }

    /// The value of an integer node; nil for any other kind (a fraction, an exponent, a
    /// number beyond 64 bits, or no number at all).
    public func integer(_ node: Int) -> Int64? {
        nodes[node].kind == .integer ? nodes[node].integer : nil
    }

    /// The value of a `true` or `false` node; nil for any other kind.
    public func bool(_ node: Int) -> Bool? {
        switch nodes[node].kind {
        case .true: true
        case .false: false
        default: nil
        }
    }

    /// The node of member `key` of an object node, nil when absent or not an object.
    public func member(_ object: Int, _ key: StaticString) -> Int? {
        member(object, UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
    }

    /// The node of member `key`, searching from where `cursor` stopped (the member after the
    /// last one found) and wrapping around: members read in the order they are written cost
    /// one comparison each. The cursor must belong to `object` (``MemberCursor/start(_:)``).
    public func member(_ object: Int, _ key: StaticString, cursor: MemberCursor) -> Int? {
        guard nodes[object].kind == .object else { return nil }
        let want = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        let first = object + 1, end = Int(nodes[object].next)
        guard first < end else { return nil }
        var k = cursor.position > first && cursor.position < end ? cursor.position : first
        let stop = k
        repeat {
            if keyEquals(k, want) {
                cursor.position = Int(nodes[k].next)
                return k
            }
            k = Int(nodes[k].next)
            if k >= end { k = first }
        } while k != stop && k < end
        return nil
    }

    /// The node of member `key` (a runtime name).
    public func member(_ object: Int, named key: String) -> Int? {
        var key = key
        return key.withUTF8 { member(object, $0) }
    }

    func member(_ object: Int, _ want: UnsafeBufferPointer<UInt8>) -> Int? {
        guard nodes[object].kind == .object else { return nil }
        var k = object + 1
        let end = Int(nodes[object].next)
        while k < end {
            if keyEquals(k, want) { return k }
            k = Int(nodes[k].next)
        }
        return nil
    }

    /// Whether member node `node`'s name is exactly `want`.
    @inline(__always) func keyEquals(_ node: Int, _ want: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = nodes[node]
        if n.keyEscaped { return key(node).elementsEqual(want) }
        let length = Int(n.keyEnd - n.keyStart)
        guard length == want.count, length >= 0, let p = text.baseAddress else { return false }
        guard let q = want.baseAddress else { return length == 0 }
        return memcmpEqual(p + Int(n.keyStart), q, length)
    }

    /// Whether a member's name was written with escapes (then only ``keyEquals(_:_:)`` and
    /// ``key(_:)`` compare it; its written length is not its length).
    public func keyIsEscaped(_ node: Int) -> Bool { nodes[node].keyEscaped }

    /// The length in bytes of a member's name as written (escapes count as written); -1 for
    /// values that are not members. A cheap first test before ``keyEquals(_:_:)``.
    @inline(__always) public func keyLength(_ node: Int) -> Int {
        let n = nodes[node]
        return n.keyStart < 0 ? -1 : Int(n.keyEnd - n.keyStart)
    }

    /// Whether member node `node`'s name is `word`.
    public func keyEquals(_ node: Int, _ word: StaticString) -> Bool {
        keyEquals(node, UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    /// The decoded name of a member node (empty for values that are not members).
    public func key(_ node: Int) -> [UInt8] {
        let n = nodes[node]
        guard n.keyStart >= 0, let p = text.baseAddress else { return [] }
        return JSONTape.decodeString(UnsafeBufferPointer(start: p + Int(n.keyStart), count: Int(n.keyEnd - n.keyStart)), escaped: n.keyEscaped)
    }

    /// The member value nodes of an object, in order (each carries its name: ``key(_:)``).
    public func members(_ object: Int) -> [Int] {
        guard nodes[object].kind == .object else { return [] }
        var out: [Int] = []
        var k = object + 1
        while k < Int(nodes[object].next) {
            out.append(k)
            k = Int(nodes[k].next)
        }
        return out
    }

    /// The first child of an object or array (nil when empty or not a container), and the one
    /// after a child (nil after the last): walking members without an array.
    public func firstChild(_ node: Int) -> Int? {
        let n = nodes[node]
        guard n.kind == .object || n.kind == .array, Int(n.next) > node + 1 else { return nil }
        return node + 1
    }

    /// The sibling after `child` inside `parent`; nil after the last one.
    public func nextSibling(_ child: Int, in parent: Int) -> Int? {
        let next = Int(nodes[child].next)
        return next < Int(nodes[parent].next) ? next : nil
    }

    /// The number of members of an object or elements of an array.
    public func count(_ node: Int) -> Int {
        let kind = nodes[node].kind
        guard kind == .object || kind == .array else { return 0 }
        var c = 0
        var k = node + 1
        while k < Int(nodes[node].next) {
            c += 1
            k = Int(nodes[k].next)
        }
        return c
    }

    /// Calls `body` with each element node of an array, in order.
    public func forEachElement(_ array: Int, _ body: (Int) throws -> Void) rethrows {
        guard nodes[array].kind == .array else { return }
        var k = array + 1
        while k < Int(nodes[array].next) {
            try body(k)
            k = Int(nodes[k].next)
        }
    }

    /// Whether a string node's (decoded) text is exactly `bytes`.
    public func stringEquals(_ node: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = nodes[node]
        guard n.kind == .string else { return false }
        if n.escaped { return decodedBytes(node).elementsEqual(bytes) }
        let length = Int(n.end - n.start)
        guard length == bytes.count else { return false }
        guard let p = text.baseAddress, let q = bytes.baseAddress else { return length == 0 }
        return memcmpEqual(p + Int(n.start), q, length)
    }

    /// Whether a string node's decoded text is exactly `word`.
    public func stringEquals(_ node: Int, _ word: StaticString) -> Bool {
        stringEquals(node, UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    /// The text of a string node, unescaped when it was written without escapes (no copy);
    /// nil for escaped strings and other kinds. Formats whose strings never need escapes
    /// (digits, hex, base64, money) read these and treat an escaped one as malformed.
    public func plainBytes(_ node: Int) -> UnsafeBufferPointer<UInt8>? {
        let n = nodes[node]
        guard n.kind == .string, !n.escaped, let p = text.baseAddress else { return nil }
        return UnsafeBufferPointer(start: p + Int(n.start), count: Int(n.end - n.start))
    }

    /// The exact text of any value as it appears in the input.
    public func rawBytes(_ node: Int) -> UnsafeBufferPointer<UInt8> {
        let n = nodes[node]
        guard let p = text.baseAddress else { return UnsafeBufferPointer(start: nil, count: 0) }
        let start = n.kind == .string ? Int(n.start) - 1 : Int(n.start)
        let end = n.kind == .string ? Int(n.end) + 1 : Int(n.end)
        return UnsafeBufferPointer(start: p + start, count: end - start)
    }

    /// The decoded UTF-8 bytes of a string node.
    public func decodedBytes(_ node: Int) -> [UInt8] {
        let n = nodes[node]
        guard n.kind == .string, let p = text.baseAddress else { return [] }
        return JSONTape.decodeString(UnsafeBufferPointer(start: p + Int(n.start), count: Int(n.end - n.start)), escaped: n.escaped)
    }

    /// The decoded text of a string node; nil for other kinds.
    public func string(_ node: Int) -> String? {
        guard nodes[node].kind == .string else { return nil }
        if let plain = plainBytes(node) { return String(decoding: plain, as: UTF8.self) }
        return String(decoding: decodedBytes(node), as: UTF8.self)
    }

    /// Decodes the escapes of string text the scanner has already checked.
    static func decodeString(_ raw: UnsafeBufferPointer<UInt8>, escaped: Bool) -> [UInt8] {
        guard escaped else { return Array(raw) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = raw[at + k]
                v = v << 4 | UInt32(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57)
            }
            return v
        }
        while i < raw.count {
            let c = raw[i]
            guard c == 0x5C, i + 1 < raw.count else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case 0x62: out.append(8)
            case 0x66: out.append(12)
            case 0x6E: out.append(10)
            case 0x72: out.append(13)
            case 0x74: out.append(9)
            case 0x75:
                var scalar = hex(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= raw.count {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex(i + 2) - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
            default: out.append(e)
            }
        }
        return out
    }

    /// The value as a ``JSON`` tree (for small documents where convenience beats speed).
    public func tree(_ node: Int) -> JSON {
        let n = nodes[node]
        switch n.kind {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .integer: return .integer(n.integer)
        case .number: return .number(String(decoding: rawBytes(node), as: UTF8.self))
        case .string: return .string(string(node) ?? "")
        case .array:
            var items: [JSON] = []
            forEachElement(node) { items.append(tree($0)) }
            return .array(items)
        case .object:
            var o = JSONObject()
            for v in members(node) { o.pairs.append((String(decoding: key(v), as: UTF8.self), tree(v))) }
            return .object(o)
        }
    }
}

/// Where the last member lookup in one object stopped (see ``JSONTape/member(_:_:cursor:)``).
/// A reference, so readers that pass field accessors around by value share it.
public final class MemberCursor {
    // Behind a pointer: a class's stored property would be checked for exclusive access on
    // every lookup, which costs more than the lookup.
    private let storage = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    /// The index of the node at which the next lookup starts.
    public var position: Int {
        @inline(__always) get { storage.pointee }
        @inline(__always) set { storage.pointee = newValue }
    }
    /// A cursor at position 0; call ``start(_:)`` with an object node before using it.
    public init() { storage.initialize(to: 0) }
    deinit { storage.deallocate() }
    /// Points the cursor at the first member of `object`.
    public func start(_ object: Int) { position = object + 1 }
}
