import Hummingbird

/// A console form's body (`application/x-www-form-urlencoded`), at most 64 KiB; names and
/// values percent-decoded, a name given twice keeps its first value.
struct FormBody {
    let fields: [String: String]

    static func read(_ request: Request) async throws -> FormBody {
        var body: ByteBuffer
        do { body = try await request.body.collect(upTo: 64 * 1024) } catch {
            throw APIError(.contentTooLarge, "body-too-large", "the form is over 64 KiB")
        }
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        var fields: [String: String] = [:]
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]) else { continue }
            let value = parts.count > 1 ? decode(parts[1]) : ""
            if fields[name] == nil, let value { fields[name] = value }
        }
        return FormBody(fields: fields)
    }

    /// Percent-decoding with `+` as space; nil for bad escapes or invalid UTF-8.
    static func decode(_ raw: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let b = raw[i]
            if b == UInt8(ascii: "+") { out.append(32); i += 1; continue }
            if b == UInt8(ascii: "%") {
                guard i + 2 < raw.endIndex, let hi = hex(raw[i + 1]), let lo = hex(raw[i + 2]) else { return nil }
                out.append(hi << 4 | lo)
                i += 3
                continue
            }
            out.append(b)
            i += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// A trimmed, length-bounded field ("" when absent).
    func text(_ name: String, max: Int = 256) -> String {
        String((fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(max))
    }
}
