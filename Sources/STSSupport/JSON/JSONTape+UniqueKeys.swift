extension Scanner {
    /// Member names must differ: a name given twice would be read differently by different
    /// readers (first or last wins), which an attacker can use to show two readers two values.
    ///
    /// Each name's fingerprint (length and first bytes) goes into a small hash table on the
    /// stack; names are compared byte by byte only when fingerprints collide. Objects with
    /// escaped names or more than 64 members compare decoded names in a set.
    func checkUniqueKeys(object: Int, members: Int) throws(JSONSyntaxError) {
        let end = count
        if members <= 64 {
            // A power of two at least twice the members: probes stay short, clearing stays cheap.
            let slots = max(8, 1 << (Int.bitWidth - (2 * members - 1).leadingZeroBitCount))
            let found: Bool? = try withUnsafeTemporaryAllocation(of: Int32.self, capacity: slots) { (table) throws(JSONSyntaxError) -> Bool? in
                table.initialize(repeating: -1)
                var k = object + 1
                while k < end {
                    let node = nodes[k]
                    if node.keyEscaped { return nil }
                    let fp = fingerprint(Int(node.keyStart), Int(node.keyEnd))
                    var slot = Int(truncatingIfNeeded: (fp &* 0x9E37_79B9_7F4A_7C15) >> 32) & (slots - 1)
                    while table[slot] >= 0 {
                        let other = nodes[Int(table[slot])]
                        if sameBytes(Int(node.keyStart), Int(node.keyEnd), Int(other.keyStart), Int(other.keyEnd)) {
                            throw fail(.duplicateKey, at: Int(node.keyStart) - 1)
                        }
                        slot = (slot + 1) & (slots - 1)
                    }
                    table[slot] = Int32(truncatingIfNeeded: k)
                    k = Int(node.next)
                }
                return true
            }
            if found != nil { return }
        }
        var seen = Set<[UInt8]>()
        var k = object + 1
        while k < end {
            let node = nodes[k]
            let name = JSONTape.decodeString(UnsafeBufferPointer(start: p + Int(node.keyStart), count: Int(node.keyEnd - node.keyStart)),
                                             escaped: node.keyEscaped)
            guard seen.insert(name).inserted else { throw fail(.duplicateKey, at: Int(node.keyStart) - 1) }
            k = Int(node.next)
        }
    }

    /// The name's length and its first (up to) seven bytes.
    @inline(__always) func fingerprint(_ start: Int, _ end: Int) -> UInt64 {
        let length = end - start
        let head: UInt64
        if start + 8 <= n {
            // One load; the bytes past the name are masked off.
            let word = UInt64(littleEndian: UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self))
            head = length >= 7 ? word & 0x00FF_FFFF_FFFF_FFFF : word & ((1 << UInt64(8 * length)) &- 1)
        } else {
            var h: UInt64 = 0
            for k in 0..<min(7, length) { h |= UInt64(p[start + k]) << UInt64(8 * k) }
            head = h
        }
        return UInt64(truncatingIfNeeded: length) << 56 | head
    }

    @inline(__always) func sameBytes(_ a: Int, _ aEnd: Int, _ b: Int, _ bEnd: Int) -> Bool {
        guard aEnd - a == bEnd - b else { return false }
        for k in 0..<(aEnd - a) where p[a + k] != p[b + k] { return false }
        return true
    }
}

/// Byte equality of two runs of `count` bytes.
@inline(__always) func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for k in 0..<count where a[k] != b[k] { return false }
    return true
}
