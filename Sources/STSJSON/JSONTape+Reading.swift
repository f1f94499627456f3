/// Reading values off a parsed tape by node index. Nothing here allocates except the
/// functions that return a `String`, `[UInt8]` or ``JSON``.
extension JSONTape {
    public func kind(_ node: Int) -> Kind { nodes[node].kind }

    /// The value of an integer node; nil for any other kind (a fraction, an exponent, a
    /// number beyond 64 bits, or no number at all).
    public func integer(_ node: Int) -> Int64? {
        nodes[node].kind == .integer ? nodes[node].integer : nil
    }

    public func bool(_ node: Int) -> Bool? {
        switch nodes[node].kind {
        case .true: true
        case .false: false
        default: nil
        }
    }

    /// The node of member `key` of an object node, nil when absent or not an object.
    public func member(_ object: Int, _ key: StaticString) -> Int? {
        guard nodes[object].kind == .object else { return nil }
        let want = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var k = object + 1
        let end = Int(nodes[object].next)
        while k < end {
            if stringEquals(k, want) { return k + 1 }
            k = Int(nodes[k + 1].next)
        }
        return nil
    }

    /// The node of member `key` (a runtime name).
    public func member(_ object: Int, named key: String) -> Int? {
        guard nodes[object].kind == .object else { return nil }
        var key = key
        return key.withUTF8 { want in
            var k = object + 1
            let end = Int(nodes[object].next)
            while k < end {
                if stringEquals(k, want) { return k + 1 }
                k = Int(nodes[k + 1].next)
            }
            return nil
        }
    }

    /// The (name node, value node) pairs of an object, in order.
    public func members(_ object: Int) -> [(key: Int, value: Int)] {
        guard nodes[object].kind == .object else { return [] }
        var out: [(Int, Int)] = []
        var k = object + 1
        while k < Int(nodes[object].next) {
            out.append((k, k + 1))
            k = Int(nodes[k + 1].next)
        }
        return out
    }

    /// The number of members of an object or elements of an array.
    public func count(_ node: Int) -> Int {
        let kind = nodes[node].kind
        guard kind == .object || kind == .array else { return 0 }
        var c = 0
        var k = node + 1
        while k < Int(nodes[node].next) {
            c += 1
            k = Int(nodes[kind == .object ? k + 1 : k].next)
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
            for (k, v) in members(node) { o.pairs.append((string(k) ?? "", tree(v))) }
            return .object(o)
        }
    }
}
