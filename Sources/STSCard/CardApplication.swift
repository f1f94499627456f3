import Crypto

/// The card side of the STS user-card application: what a CPU card (or our virtual card)
/// runs. Pure: APDU in, response out; the caller persists ``image`` after each command.
///
/// Commands: SELECT (AID or FID), READ BINARY (SFI or current file), UPDATE BINARY only with
/// secure messaging (CLA 04, CMAC under the file's write key over a fresh card challenge),
/// GET CHALLENGE, GET DATA (serial), and a one-time PERSONALISE that loads the two write keys.
public struct CardApplication: Sendable {
    /// Everything the card keeps in non-volatile memory.
    public struct Image: Equatable, Sendable, Codable {
        /// The 8-byte card serial, fixed at manufacture: the diversification factor of the card's keys.
        public var serial: [UInt8]
        /// The issuer and meter write keys (16 bytes each), empty until personalised.
        public var writeKeys: [UInt8]
        /// The contents of the CardInfo, Purchase and Return files, in ``CardFile`` order.
        public var files: [[UInt8]]

        /// A blank card with a serial.
        public init(serial: [UInt8]) {
            self.serial = serial
            writeKeys = []
            files = CardFile.allCases.map { [UInt8](repeating: 0, count: $0.size) }
        }

        /// Whether PERSONALISE has loaded the write keys; until then no file can be written.
        public var isPersonalised: Bool { writeKeys.count == 32 }
    }

    /// The card's non-volatile state, to be saved by the caller after every command.
    public var image: Image
    var applicationSelected = false
    var currentFile: CardFile?
    /// The last GET CHALLENGE, usable once.
    var challenge: [UInt8]?

    /// The application running on a card with this memory (power on: nothing selected, no challenge).
    public init(image: Image) { self.image = image }

    /// Resets the session state (power cycle): selection and challenge are volatile.
    public mutating func reset() {
        applicationSelected = false
        currentFile = nil
        challenge = nil
    }

    /// Runs one command APDU and returns the card's response; refusals are status words, never throws.
    public mutating func process(_ c: CommandAPDU) -> ResponseAPDU {
        guard c.cla == 0x00 || c.cla == 0x04 || c.cla == 0x80 else { return ResponseAPDU(status: .claNotSupported) }
        switch (c.cla, c.ins) {
        case (0x00, 0xA4): return select(c)
        case (0x00, 0xB0): return read(c)
        case (0x00, 0xD6): return ResponseAPDU(status: .securityNotSatisfied)  // writes need secure messaging
        case (0x04, 0xD6): return secureUpdate(c)
        case (0x00, 0x84):
            guard c.le == 8 else { return ResponseAPDU(status: .wrongLength) }
            var rng = SystemRandomNumberGenerator()
            let value = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
            challenge = value
            return ResponseAPDU(data: value, status: .success)
        case (0x00, 0xCA):
            guard c.p1 == 0x00, c.p2 == 0x01 else { return ResponseAPDU(status: .wrongParameters) }
            return ResponseAPDU(data: image.serial, status: .success)
        case (0x80, 0xE0): return personalise(c)
        default: return ResponseAPDU(status: .insNotSupported)
        }
    }

    mutating func select(_ c: CommandAPDU) -> ResponseAPDU {
        switch c.p1 {
        case 0x04:
            guard c.data == stsCardAID else { return ResponseAPDU(status: .fileNotFound) }
            applicationSelected = true
            currentFile = nil
            return ResponseAPDU(status: .success)
        case 0x00, 0x02:
            guard applicationSelected, c.data.count == 2,
                  let file = CardFile(rawValue: c.data[1]), c.data[0] == 0
            else { return ResponseAPDU(status: .fileNotFound) }
            currentFile = file
            return ResponseAPDU(status: .success)
        default:
            return ResponseAPDU(status: .wrongParameters)
        }
    }

    /// The file and offset of a READ/UPDATE BINARY: SFI in P1 (bit 8 set) or the current file.
    func target(_ c: CommandAPDU) -> (CardFile, Int)? {
        if c.p1 & 0x80 != 0 {
            guard let f = CardFile(rawValue: c.p1 & 0x1F) else { return nil }
            return (f, Int(c.p2))
        }
        guard let f = currentFile else { return nil }
        return (f, Int(c.p1) << 8 | Int(c.p2))
    }

    mutating func read(_ c: CommandAPDU) -> ResponseAPDU {
        guard applicationSelected else { return ResponseAPDU(status: .conditionsNotSatisfied) }
        guard let (file, offset) = target(c) else {
            return ResponseAPDU(status: c.p1 & 0x80 != 0 ? .fileNotFound : .noCurrentFile)
        }
        if c.p1 & 0x80 != 0 { currentFile = file }
        let content = image.files[Int(file.rawValue) - 1]
        guard offset <= content.count else { return ResponseAPDU(status: .wrongOffset) }
        let wanted = c.le.map { $0 == 0 ? 256 : $0 } ?? 256
        let end = min(content.count, offset + wanted)
        return ResponseAPDU(data: Array(content[offset..<end]), status: end - offset < wanted && c.le != nil && c.le != 0 ? .endOfFile : .success)
    }

    mutating func secureUpdate(_ c: CommandAPDU) -> ResponseAPDU {
        // The challenge is consumed whatever happens: one attempt per challenge.
        let fresh = challenge
        challenge = nil
        guard applicationSelected else { return ResponseAPDU(status: .conditionsNotSatisfied) }
        guard image.isPersonalised else { return ResponseAPDU(status: .conditionsNotSatisfied) }
        guard let (file, offset) = target(c) else { return ResponseAPDU(status: .fileNotFound) }
        guard c.data.count > 8 else { return ResponseAPDU(status: .wrongLength) }
        guard let fresh else { return ResponseAPDU(status: .securityNotSatisfied) }
        let payload = Array(c.data.dropLast(8))
        let key = SymmetricKey(data: file == .returnData ? image.writeKeys[16..<32] : image.writeKeys[0..<16])
        let expected = SecureMessaging.mac(key: key, challenge: fresh, header: c.header, payload: payload)
        guard constantTimeEqual(expected, Array(c.data.suffix(8))) else { return ResponseAPDU(status: .secureMessagingIncorrect) }
        var content = image.files[Int(file.rawValue) - 1]
        guard offset + payload.count <= content.count else { return ResponseAPDU(status: .notEnoughMemory) }
        content.replaceSubrange(offset..<(offset + payload.count), with: payload)
        image.files[Int(file.rawValue) - 1] = content
        currentFile = file
        return ResponseAPDU(status: .success)
    }

    mutating func personalise(_ c: CommandAPDU) -> ResponseAPDU {
        guard !image.isPersonalised else { return ResponseAPDU(status: .conditionsNotSatisfied) }
        guard c.data.count == 32 else { return ResponseAPDU(status: .wrongLength) }
        image.writeKeys = c.data
        return ResponseAPDU(status: .success)
    }
}

/// The MAC of a secure-messaging UPDATE BINARY: AES-CMAC under the file's write key over the
/// card's challenge, the command header (CLA 04) with Lc, and the payload; 8 bytes.
public enum SecureMessaging {
    static func mac(key: SymmetricKey, challenge: [UInt8], header: [UInt8], payload: [UInt8]) -> [UInt8] {
        CardKeys.mac(key, challenge + header + [UInt8(truncatingIfNeeded: payload.count + 8)] + payload)
    }
}
