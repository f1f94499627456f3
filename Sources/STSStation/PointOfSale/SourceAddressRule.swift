import Foundation

/// One entry of a point-of-sale client's address allow-list: an IPv4 or IPv6 address, or a
/// network in CIDR form (`10.20.0.0/16`, `fd00::/8`). A client with no entries may connect from
/// anywhere (its secret is what admits it); with entries, only from them.
public struct SourceAddressRule: Sendable, Equatable, CustomStringConvertible {
    /// The network's bytes (4 for IPv4, 16 for IPv6).
    public let network: [UInt8]
    /// How many leading bits must match.
    public let prefixLength: Int

    /// Parses `address` or `address/prefix`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let bytes = Self.address(String(parts[0])) else { return nil }
        let width = bytes.count * 8
        var prefix = width
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...width).contains(p), parts[1].allSatisfy(\.isASCII) else { return nil }
            prefix = p
        }
        // The network's host bits are cleared, so the rule prints as what it matches.
        var net = bytes
        for i in 0..<net.count {
            let keep = max(0, min(8, prefix - i * 8))
            net[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        network = net
        prefixLength = prefix
    }

    /// Whether `source` (an address as the server's socket names it) is inside this rule.
    public func admits(_ source: String) -> Bool {
        guard var bytes = Self.address(source) else { return false }
        // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
        if bytes.count == 16, network.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == network.count else { return false }
        var bits = prefixLength
        for i in 0..<bytes.count where bits > 0 {
            let n = min(8, bits)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - n))
            if bytes[i] & mask != network[i] { return false }
            bits -= n
        }
        return true
    }

    /// The rule as the list stores it.
    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let family = network.count == 4 ? AF_INET : AF_INET6
        _ = network.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return prefixLength == network.count * 8 ? address : "\(address)/\(prefixLength)"
    }

    static func address(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// A comma-separated list (the stored form, and the command line's); empty text is no rules.
    public static func list(_ text: String) throws(StationError) -> [SourceAddressRule] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard items.count <= 64 else { throw .invalid(.allowedAddresses, "at most 64 allowed addresses or networks") }
        return try items.map { (item) throws(StationError) -> SourceAddressRule in
            guard let rule = SourceAddressRule(item) else {
                throw .invalid(.allowedAddresses, "\"\(item.prefix(50))\" is not an IP address or a network (10.0.0.0/8, fd00::/8)")
            }
            return rule
        }
    }
}
