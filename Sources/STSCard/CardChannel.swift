/// Something that carries APDUs to a card: a PC/SC reader, or a card in memory for tests.
public protocol CardChannel {
    /// Sends one command APDU and returns the card's response; throws when the transport fails.
    mutating func transmit(_ command: CommandAPDU) throws -> ResponseAPDU
}

/// A card application in memory, as a channel.
public struct InMemoryCard: CardChannel {
    /// The card application, with its memory image, that commands go to.
    public var card: CardApplication
    /// A channel to this in-memory card.
    public init(_ card: CardApplication) { self.card = card }
    /// Hands the command to the card application directly (never fails in transport).
    public mutating func transmit(_ command: CommandAPDU) throws -> ResponseAPDU { card.process(command) }
}

/// The terminal side of the application: the steps a vending station or meter takes.
public struct CardSession<Channel: CardChannel> {
    /// The reader (or in-memory card) the session talks through.
    public var channel: Channel

    /// A session over `channel`; call ``open()`` first to select the application.
    public init(channel: Channel) { self.channel = channel }

    mutating func expectSuccess(_ c: CommandAPDU, _ what: String) throws -> [UInt8] {
        let r = try channel.transmit(c)
        guard r.status.isSuccess else { throw CardError.card(r.status, what) }
        return r.data
    }

    /// Selects the application and reads the card serial.
    public mutating func open() throws -> [UInt8] {
        _ = try expectSuccess(CommandAPDU(ins: 0xA4, p1: 0x04, p2: 0x0C, data: stsCardAID), "selecting the STS card application")
        let serial = try expectSuccess(CommandAPDU(ins: 0xCA, p1: 0x00, p2: 0x01, le: 8), "reading the card serial")
        guard serial.count == 8 else { throw CardError.badRecord("the card serial must be 8 bytes") }
        return serial
    }

    /// The raw bytes of a file.
    public mutating func read(_ file: CardFile) throws -> [UInt8] {
        try expectSuccess(CommandAPDU(ins: 0xB0, p1: 0x80 | file.rawValue, p2: 0, le: file.size == 256 ? 0 : file.size), "reading file \(file.rawValue)")
    }

    /// Writes a file with secure messaging under `writeKey`, then reads it back to confirm.
    public mutating func write(_ file: CardFile, _ bytes: [UInt8], keys: CardKeys) throws {
        let key = file == .returnData ? keys.meterWrite : keys.issuerWrite
        let challenge = try expectSuccess(CommandAPDU(ins: 0x84, p1: 0, p2: 0, le: 8), "getting a card challenge")
        let header: [UInt8] = [0x04, 0xD6, 0x80 | file.rawValue, 0x00]
        let mac = SecureMessaging.mac(key: key, challenge: challenge, header: header, payload: bytes)
        _ = try expectSuccess(CommandAPDU(cla: 0x04, ins: 0xD6, p1: 0x80 | file.rawValue, p2: 0, data: bytes + mac), "writing file \(file.rawValue)")
        guard try read(file) == bytes else { throw CardError.badRecord("file \(file.rawValue) reads back different from what was written") }
    }

    /// Loads the card's write keys (once, on a blank card).
    public mutating func personalise(keys: CardKeys) throws {
        var bytes = keys.writeKeyBytes()
        defer { bytes.withUnsafeMutableBytes { for i in $0.indices { $0[i] = 0 } } }
        _ = try expectSuccess(CommandAPDU(cla: 0x80, ins: 0xE0, p1: 0, p2: 0, data: bytes), "personalising the card")
    }
}
