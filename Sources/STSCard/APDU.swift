/// An ISO 7816-4 command APDU (short form).
public struct CommandAPDU: Equatable, Sendable {
    /// Class byte: 00 plain, 04 secure messaging, 80 proprietary (PERSONALISE).
    public var cla: UInt8
    /// Instruction byte, e.g. A4 SELECT, B0 READ BINARY, D6 UPDATE BINARY, 84 GET CHALLENGE.
    public var ins: UInt8
    /// First parameter byte (for READ/UPDATE BINARY: an SFI with bit 8 set, or the offset's high byte).
    public var p1: UInt8
    /// Second parameter byte (for READ/UPDATE BINARY: the offset, or its low byte).
    public var p2: UInt8
    /// The command data (Lc is its length; none when empty).
    public var data: [UInt8]
    /// Expected response length (0 means 256); nil: no Le.
    public var le: Int?

    /// A command from its header, data and expected response length (CLA 00 unless given).
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
    /// The response data, without the status word.
    public var data: [UInt8]
    /// The status word (SW1 SW2) the card answered with.
    public var status: StatusWord

    /// A response from its data and status word.
    public init(data: [UInt8] = [], status: StatusWord) {
        self.data = data
        self.status = status
    }

    /// Splits the bytes a reader returned into data and the trailing status word; nil when shorter than 2 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= 2 else { return nil }
        data = Array(bytes.dropLast(2))
        status = StatusWord(rawValue: UInt16(bytes[bytes.count - 2]) << 8 | UInt16(bytes[bytes.count - 1]))
    }

    /// The bytes sent back to the terminal: data, then SW1 SW2.
    public var bytes: [UInt8] { data + [UInt8(status.rawValue >> 8), UInt8(status.rawValue & 0xFF)] }
}

/// Status words, with the names traces and errors print.
public struct StatusWord: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// SW1 SW2 as one big-endian value (9000 is success).
    public let rawValue: UInt16
    /// A status word from its 16-bit value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 9000: the command completed.
    public static let success = StatusWord(rawValue: 0x9000)
    /// 6282: fewer bytes than Le were left in the file (READ BINARY).
    public static let endOfFile = StatusWord(rawValue: 0x6282)
    /// 6700: wrong Lc or Le (e.g. a GET CHALLENGE not asking for 8 bytes).
    public static let wrongLength = StatusWord(rawValue: 0x6700)
    /// 6982: a write without secure messaging, or without a fresh challenge.
    public static let securityNotSatisfied = StatusWord(rawValue: 0x6982)
    /// 6983: authentication blocked (named for traces; our card application never answers it).
    public static let authenticationBlocked = StatusWord(rawValue: 0x6983)
    /// 6985: the application is not selected, the card is not personalised, or it already is.
    public static let conditionsNotSatisfied = StatusWord(rawValue: 0x6985)
    /// 6986: a READ BINARY by offset with no file selected.
    public static let noCurrentFile = StatusWord(rawValue: 0x6986)
    /// 6988: the secure-messaging CMAC did not verify under the file's write key.
    public static let secureMessagingIncorrect = StatusWord(rawValue: 0x6988)
    /// 6A80: incorrect command data (named for traces; our card application never answers it).
    public static let wrongData = StatusWord(rawValue: 0x6A80)
    /// 6A82: no such application (AID) or file.
    public static let fileNotFound = StatusWord(rawValue: 0x6A82)
    /// 6A84: the update would run past the end of the file.
    public static let notEnoughMemory = StatusWord(rawValue: 0x6A84)
    /// 6A86: P1 P2 not supported by the command.
    public static let wrongParameters = StatusWord(rawValue: 0x6A86)
    /// 6B00: the offset lies beyond the end of the file.
    public static let wrongOffset = StatusWord(rawValue: 0x6B00)
    /// 6D00: the card application does not know the instruction.
    public static let insNotSupported = StatusWord(rawValue: 0x6D00)
    /// 6E00: a class byte other than 00, 04 and 80.
    public static let claNotSupported = StatusWord(rawValue: 0x6E00)

    /// Whether the card answered 9000.
    public var isSuccess: Bool { rawValue == 0x9000 }

    /// A readable name for traces and errors ("wrong Le, use N", "N more bytes available", …).
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

    /// Four hex digits and the name, e.g. `6988 (secure messaging data incorrect)`.
    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - hex.count) + hex + " (\(name))"
    }
}
