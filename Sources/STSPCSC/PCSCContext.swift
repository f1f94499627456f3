import STSTokenFormat
import CPCSCLite
import Foundation
import STSCard

/// A PC/SC context: lists readers, waits for cards, connects.
///
/// pcsc-lite contexts are not safe to share across threads; use one per thread.
public final class PCSCContext {
    let handle: SCARDCONTEXT

    /// Connects to the PC/SC service (pcscd); throws ``PCSCError/noService`` when it is not running.
    public init() throws(PCSCError) {
        var h: SCARDCONTEXT = 0
        let rc = SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &h)
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardEstablishContext") }
        handle = h
    }

    deinit { SCardReleaseContext(handle) }

    /// The reader names, in the order pcscd reports them.
    public func readers() throws(PCSCError) -> [String] {
        var size: DWORD = 0
        var rc = SCardListReaders(handle, nil, nil, &size)
        if rc == SCARD_E_NO_READERS_AVAILABLE { return [] }
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardListReaders") }
        var buffer = [CChar](repeating: 0, count: Int(size))
        rc = SCardListReaders(handle, nil, &buffer, &size)
        if rc == SCARD_E_NO_READERS_AVAILABLE { return [] }
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardListReaders") }
        // A multi-string: names separated by NUL, ended by an empty one.
        return buffer.split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    /// A reader's state: whether a card is present, and its ATR.
    public struct ReaderState: Sendable {
        /// The reader's name as pcscd reports it.
        public let name: String
        /// Whether a card is in the reader.
        public let cardPresent: Bool
        /// The card's answer to reset (empty when there is no card).
        public let atr: [UInt8]
    }

    /// The current state of the given readers, or waits up to `timeoutMilliseconds` for a change.
    public func states(_ names: [String], timeoutMilliseconds: DWORD = 0, previous: [DWORD]? = nil) throws(PCSCError) -> [ReaderState] {
        let cNames = names.map { strdup($0)! }
        defer { cNames.forEach { free($0) } }
        var states = cNames.enumerated().map { i, n in
            var s = SCARD_READERSTATE()
            s.szReader = UnsafePointer(n)
            s.dwCurrentState = previous?[i] ?? DWORD(SCARD_STATE_UNAWARE)
            return s
        }
        let rc = SCardGetStatusChange(handle, timeoutMilliseconds, &states, DWORD(states.count))
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardGetStatusChange") }
        return zip(names, states).map { name, s in
            let atr = withUnsafeBytes(of: s.rgbAtr) { Array($0.prefix(Int(s.cbAtr))) }
            return ReaderState(name: name, cardPresent: s.dwEventState & DWORD(SCARD_STATE_PRESENT) != 0, atr: atr)
        }
    }

    /// Chooses a reader like OpenSC and gp do: `selector` is an index, a name substring or an
    /// ATR in hex; without one, the first reader holding a card. With `waitSeconds`, waits that
    /// long for a card to be inserted in the chosen reader (or any reader).
    public func chooseReader(_ selector: String?, waitSeconds: Double? = nil) throws(PCSCError) -> String {
        let deadline = Self.now() + (waitSeconds ?? 0)
        while true {
            let names = try readers()
            guard !names.isEmpty else { throw PCSCError.noReaders }
            let st = try states(names)
            var candidates = st
            if let selector, !selector.isEmpty {
                if let index = Int(selector), names.indices.contains(index) {
                    candidates = [st[index]]
                } else if let byName = st.first(where: { $0.name.lowercased().contains(selector.lowercased()) }) {
                    candidates = [byName]
                } else if let byATR = st.first(where: { $0.cardPresent && Self.hex($0.atr).hasPrefix(selector.uppercased().replacingOccurrences(of: " ", with: "")) }) {
                    candidates = [byATR]
                } else {
                    throw PCSCError.unknownReader(selector)
                }
            }
            if let ready = candidates.first(where: { $0.cardPresent }) { return ready.name }
            guard Self.now() < deadline else {
                if waitSeconds != nil { throw PCSCError.timeout(candidates.count == 1 ? candidates[0].name : "") }
                throw PCSCError.noCard(candidates.count == 1 ? candidates[0].name : "")
            }
            // Block until something changes (or 200 ms), then look again.
            _ = try? states(candidates.map(\.name), timeoutMilliseconds: 200,
                            previous: candidates.map { $0.cardPresent ? DWORD(SCARD_STATE_PRESENT) : DWORD(SCARD_STATE_EMPTY) })
        }
    }

    /// Connects to the card in `reader` (shared, T=0 or T=1).
    public func connect(_ reader: String, trace: APDUTrace? = nil) throws(PCSCError) -> PCSCCard {
        var card: SCARDHANDLE = 0
        var proto: DWORD = 0
        let rc = SCardConnect(handle, reader, DWORD(SCARD_SHARE_SHARED), DWORD(SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1), &card, &proto)
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardConnect", reader: reader) }
        return PCSCCard(context: self, handle: card, protocol: proto, reader: reader, trace: trace)
    }

    static func hex(_ b: [UInt8]) -> String { Hex.upper(b) }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A connected card: transmits APDUs (handling GET RESPONSE and wrong-Le retries), within
/// an exclusive transaction when asked.
public final class PCSCCard: CardChannel {
    /// Kept alive as long as the card: releasing the context invalidates its handles.
    let context: PCSCContext
    let handle: SCARDHANDLE
    var proto: DWORD
    /// The name of the reader the card is in.
    public let reader: String
    let trace: APDUTrace?

    init(context: PCSCContext, handle: SCARDHANDLE, protocol: DWORD, reader: String, trace: APDUTrace?) {
        self.context = context
        self.handle = handle
        self.proto = `protocol`
        self.reader = reader
        self.trace = trace
    }

    deinit { SCardDisconnect(handle, DWORD(SCARD_LEAVE_CARD)) }

    /// Exclusive access across processes until ``endTransaction()``.
    public func beginTransaction() throws(PCSCError) {
        let rc = SCardBeginTransaction(handle)
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardBeginTransaction", reader: reader) }
    }

    /// Ends the transaction begun with ``beginTransaction()``, leaving the card as it is.
    public func endTransaction() {
        SCardEndTransaction(handle, DWORD(SCARD_LEAVE_CARD))
    }

    /// Re-establishes the connection after a reset or re-insertion.
    public func reconnect() throws(PCSCError) {
        var p: DWORD = 0
        let rc = SCardReconnect(handle, DWORD(SCARD_SHARE_SHARED), DWORD(SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1), DWORD(SCARD_RESET_CARD), &p)
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardReconnect", reader: reader) }
        proto = p
    }

    /// Sends one command APDU and returns the card's complete response: retries once with the Le a
    /// `6Cxx` status asks for, and collects `61xx` data with GET RESPONSE (at most 32 rounds).
    /// Response data is kept only with a success or end-of-file status.
    public func transmit(_ command: CommandAPDU) throws -> ResponseAPDU {
        var response = try raw(command)
        // 6Cxx: the card wants a different Le; 61xx: more data waits behind GET RESPONSE.
        if response.status.rawValue >> 8 == 0x6C {
            var again = command
            again.le = Int(response.status.rawValue & 0xFF)
            response = try raw(again)
        }
        var data = response.data
        var rounds = 0
        while response.status.rawValue >> 8 == 0x61 {
            rounds += 1
            guard rounds <= 32 else { throw PCSCError.failure(code: 0, call: "GET RESPONSE (the card keeps answering 61xx)") }
            response = try raw(CommandAPDU(ins: 0xC0, p1: 0, p2: 0, le: Int(response.status.rawValue & 0xFF)))
            data += response.data
        }
        return ResponseAPDU(data: response.status.isSuccess || response.status == .endOfFile ? data : [], status: response.status)
    }

    func raw(_ command: CommandAPDU) throws(PCSCError) -> ResponseAPDU {
        let bytes = command.bytes
        var out = [UInt8](repeating: 0, count: 258)
        var outLength = DWORD(out.count)
        let pci = proto == DWORD(SCARD_PROTOCOL_T0) ? sts_pci_t0() : sts_pci_t1()
        let start = PCSCContext.now()
        let rc = SCardTransmit(handle, pci, bytes, DWORD(bytes.count), nil, &out, &outLength)
        guard rc == SCARD_S_SUCCESS else { throw PCSCError.from(rc, call: "SCardTransmit", reader: reader) }
        guard let response = ResponseAPDU(bytes: Array(out.prefix(Int(outLength)))) else {
            throw PCSCError.failure(code: 0, call: "SCardTransmit (short response)")
        }
        trace?.record(command, response, seconds: PCSCContext.now() - start)
        return response
    }
}
