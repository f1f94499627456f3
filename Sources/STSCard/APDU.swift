/// An ISO 7816-4 command APDU (short form).
public struct CommandAPDU: Equatable, Sendable {
    public var cla: UInt8
    public var ins: UInt8
    public var p1: UInt8
    public var p2: UInt8
    public var data: [UInt8]
    /// Expected response length (0 means 256); nil: no Le.
    public var le: Int?

    public init(cla: UInt8 = 0x00, ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8] = [], le: Int? = nil) {
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.le = le
    }

    /// The bytes sent to the card.
    public var bytes: [UInt8] {
        var out = [cla, ins, p1, p2]
        if !data.isEmpty { out.append(UInt8(data.count)); out += data }
        if let le { out.append(UInt8(truncatingIfNeeded: le)) }
        return out
    }

    /// Parses a short APDU (cases 1–4); nil when malformed.
    public init?(bytes b: [UInt8]) {
        guard b.count >= 4 else { return nil }
        cla = b[0]; ins = b[1]; p1 = b[2]; p2 = b[3]
        switch b.count {
        case 4: data = []; le = nil
        case 5: data = []; le = Int(b[4])
        default:
            let lc = Int(b[4])
            guard lc > 0, b.count == 5 + lc || b.count == 6 + lc else { return nil }
            data = Array(b[5..<(5 + lc)])
            le = b.count == 6 + lc ? Int(b[5 + lc]) : nil
        }
    }

    /// The header bytes (CLA INS P1 P2).
    public var header: [UInt8] { [cla, ins, p1, p2] }
}

/// An ISO 7816-4 response: data and status word.
public struct ResponseAPDU: Equatable, Sendable {
    public var data: [UInt8]
    public var status: StatusWord

    public init(data: [UInt8] = [], status: StatusWord) {
        self.data = data
        self.status = status
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count >= 2 else { return nil }
        data = Array(bytes.dropLast(2))
        status = StatusWord(rawValue: UInt16(bytes[bytes.count - 2]) << 8 | UInt16(bytes[bytes.count - 1]))
    }

    public var bytes: [UInt8] { data + [UInt8(status.rawValue >> 8), UInt8(status.rawValue & 0xFF)] }
}

/// Status words, with the names traces and errors print.
public struct StatusWord: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let success = StatusWord(rawValue: 0x9000)
    public static let endOfFile = StatusWord(rawValue: 0x6282)
    public static let wrongLength = StatusWord(rawValue: 0x6700)
    public static let securityNotSatisfied = StatusWord(rawValue: 0x6982)
    public static let authenticationBlocked = StatusWord(rawValue: 0x6983)
    public static let conditionsNotSatisfied = StatusWord(rawValue: 0x6985)
    public static let noCurrentFile = StatusWord(rawValue: 0x6986)
    public static let secureMessagingIncorrect = StatusWord(rawValue: 0x6988)
    public static let wrongData = StatusWord(rawValue: 0x6A80)
    public static let fileNotFound = StatusWord(rawValue: 0x6A82)
    public static let notEnoughMemory = StatusWord(rawValue: 0x6A84)
    public static let wrongParameters = StatusWord(rawValue: 0x6A86)
    public static let wrongOffset = StatusWord(rawValue: 0x6B00)
    public static let insNotSupported = StatusWord(rawValue: 0x6D00)
    public static let claNotSupported = StatusWord(rawValue: 0x6E00)

    public var isSuccess: Bool { rawValue == 0x9000 }

    public var name: String {
        switch rawValue {
        case 0x9000: return "success"
        case 0x6282: return "end of file"
        case 0x6700: return "wrong length"
        case 0x6982: return "security status not satisfied"
        case 0x6983: return "authentication blocked"
        case 0x6985: return "conditions of use not satisfied"
        case 0x6986: return "no current EF"
        case 0x6988: return "secure messaging data incorrect"
        case 0x6A80: return "wrong data"
        case 0x6A82: return "file not found"
        case 0x6A84: return "not enough memory"
        case 0x6A86: return "wrong P1 P2"
        case 0x6B00: return "wrong offset"
        case 0x6D00: return "instruction not supported"
        case 0x6E00: return "class not supported"
        default:
            if rawValue >> 8 == 0x61 { return "\(rawValue & 0xFF) more bytes available" }
            if rawValue >> 8 == 0x6C { return "wrong Le, use \(rawValue & 0xFF)" }
            return "status"
        }
    }

    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - hex.count) + hex + " (\(name))"
    }
}
