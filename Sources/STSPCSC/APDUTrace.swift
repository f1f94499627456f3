import STSTokenFormat
import Foundation
import STSCard

/// Prints each APDU exchange (`>>` command, `<<` response with the status word's name and
/// the time taken). Key loads, MACs and secure-messaging payloads are masked, so a trace can
/// be shared.
public final class APDUTrace {
    let write: (String) -> Void

    /// A trace that hands each masked line to `write` (standard error by default).
    public init(write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.write = write
    }

    func record(_ c: CommandAPDU, _ r: ResponseAPDU, seconds: Double) {
        write(">> " + Self.masked(c) + "\n")
        // Purchase records hold live tokens (bearer credit): their bytes are not traced.
        let purchaseRead = c.ins == 0xB0 && c.p1 == 0x82
        let data = r.data.isEmpty ? "" : (purchaseRead ? String(repeating: "*", count: r.data.count * 2) : Self.hex(r.data)) + " "
        write("<< " + data + "\(r.status)  [\(String(format: "%.2f", seconds * 1000)) ms]\n")
    }

    /// The command with secrets replaced by `**`: the key bytes of PERSONALISE, the MAC of
    /// secure-messaging writes, and purchase records (their tokens are bearer credit).
    static func masked(_ c: CommandAPDU) -> String {
        var data = hex(c.data)
        if c.cla == 0x80 && c.ins == 0xE0 {
            data = String(repeating: "*", count: c.data.count * 2)
        } else if c.cla == 0x04, c.data.count > 8 {
            // The MAC always; the whole payload for purchase writes (live tokens).
            data = c.p1 == 0x82 ? String(repeating: "*", count: c.data.count * 2)
                : hex(Array(c.data.dropLast(8))) + String(repeating: "*", count: 16)
        }
        let header = hex(c.header)
        let lc = c.data.isEmpty ? "" : " " + hex([UInt8(c.data.count)]) + " " + data
        let le = c.le.map { " " + hex([UInt8(truncatingIfNeeded: $0)]) } ?? ""
        return header + lc + le
    }

    static func hex(_ b: [UInt8]) -> String { Hex.upper(b) }
}
