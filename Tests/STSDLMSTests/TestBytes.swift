import STSDLMS

/// Bytes from hex text (spaces and line breaks ignored), for expected values written by hand.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != 0x20 && $0 != 0x0A })
    precondition(digits.count % 2 == 0, "odd number of hex digits in \(text)")
    return stride(from: 0, to: digits.count, by: 2).map { i in
        UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16)!
    }
}

/// A UInt32 as four big-endian bytes (invocation counters on the wire).
func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

/// The invocation counter of a ciphered APDU (glo- or general-glo-ciphering): tag, [title,] length,
/// then SC ‖ IC ‖ ….
func cipheredCounter(_ apdu: [UInt8]) throws(DLMSError) -> UInt32 {
    var r = ByteReader(apdu, start: 1)
    if apdu.first == 0xDB { _ = try r.take(try r.length()) }
    let content = try r.take(try r.length())
    guard content.count >= 5 else { throw .truncated }
    return UInt32(content[1]) << 24 | UInt32(content[2]) << 16 | UInt32(content[3]) << 8 | UInt32(content[4])
}

/// Short ways to look into an answer.
extension XDLMSResponse {
    /// The data of a plain GET answer.
    var getValue: DataValue? { if case .get(_, .data(let v)) = self { return v }; return nil }
    /// The Data-Access-Result of a refused GET.
    var getFailure: UInt8? { if case .get(_, .failure(let c)) = self { return c }; return nil }
    /// The results of a GET-with-list answer.
    var listResults: [GetResult]? { if case .getList(_, let r) = self { return r }; return nil }
    /// The Data-Access-Result of a SET answer.
    var setResult: UInt8? { if case .set(_, let r) = self { return r }; return nil }
    /// The Action-Result of an ACTION answer.
    var actionResult: UInt8? { if case .action(_, let r, _) = self { return r }; return nil }
    /// The invoke-id-and-priority byte of an answer (nil for an exception).
    var invokeID: UInt8? {
        switch self {
        case .get(let i, _), .getBlock(let i, _, _, _), .getBlockFailure(let i, _, _), .getList(let i, _), .set(let i, _), .action(let i, _, _):
            return i
        case .exception: return nil
        }
    }
}
