import Foundation
import STSBatch
import STSCrypto
import STSTariff
import STSTokenFormat
import STSVending

/// A token's identity for the no-TID-twice rule: a meter may see a TID once per base date
/// (a rollover key change clears its memory and restarts TIDs on the next base date).
struct TIDKey: Hashable {
    /// The 18-digit PAN as a number.
    var pan: UInt64
    var baseDate: Int64
    var tid: Int64
}

/// What the sequential pass needs from one line, extracted (in parallel) from its bytes.
struct EntryFacts {
    var line = 0
    var seq: Int64?
    var prev = LogDigest.genesis
    var hash = LogDigest.genesis
    var kind = EntryKind.other
    var problems: [AuditProblem] = []

    // station
    var stationID: String?
    var stationKey: String?
    // checkpoint
    var through: Int64?
    /// The checkpoint's `head`, when it is 64 lower-case hex digits.
    var head: LogDigest?
    var signature: [UInt8]?
    // sale, reversal, reprint, engineering, key change
    var saleID: Int64?
    var account: Int64?
    var carriedIn: Int64 = 0
    var carriedOut: Int64 = 0
    var paid: Int64 = 0
    var units: Int64 = 0
    /// The entry's TIDs: the first inline (a sale has one token), any others in `moreTIDs`.
    var firstTID: TIDKey?
    var moreTIDs: [TIDKey] = []
    var tokenCount = 0
    var decrypted = 0
    var refundedSale: Int64?
    /// A sale written onto a card (its receipt has a `card` object): voided, never reversed.
    var onCard = false
    /// What a card void of this sale gives back: its energy and VAT (block costs, the `vat`
    /// deduction and a currency sale's cost), in cents.
    var voidable: Int64 = 0
    /// The card purchase a sale was written as, or a card void names: serial (16 hex digits as a
    /// number), sequence and the credit token's TID; nil when absent or malformed.
    var cardPurchase: CardPurchaseKey?

    /// At most this many problems are kept for one line (a line of a million empty blocks must
    /// not make a million messages); the report counts the rest as omitted.
    static let maximumProblemsPerLine = 100
    var problemsOmitted = 0

    mutating func problem(_ code: String, _ message: String) {
        guard problems.count < Self.maximumProblemsPerLine else { problemsOmitted += 1; return }
        problems.append(AuditProblem(line: line, seq: seq, code: code, message: message))
    }
}

/// The entry types the verifier reads fields of (every other type is only hashed and chained).
enum EntryKind: UInt8 {
    case station, checkpoint, sale, reversal, reprint, engineering, keyChange, export, cardVoid, other
}

/// The largest energy one credit token carries, in tenths of a kWh (Specs/tokens.md).
let maximumTenths = Int64(TransferAmount.maximumUnits)

extension EntryFacts {
    /// Reads and checks one line on its own: layout, hash, strict JSON and the entry's fixed
    /// shape, and for sales the money sum, the units and (with keys) every token.
    init(line number: Int, bytes: UnsafeBufferPointer<UInt8>, keys: [String: VendingKey]?, tape: inout JSONTape) {
        line = number
        guard let header = AuditEntryLine.header(bytes) else {
            problem("format", "not an entry line (a torn or edited line; the layout is {\"seq\":…,\"prev\":\"…\",\"hash\":\"…\"})")
            return
        }
        seq = header.seq
        prev = header.prev
        hash = header.hash
        if AuditEntryLine.computedHash(bytes) != header.hash {
            problem("hash", "the entry's bytes do not hash to its stated hash: the entry was altered")
        }
        do { try tape.parse(bytes) } catch {
            problem("format", "not strict JSON: \(error)")
            return
        }
        let root = tape.root
        guard !tape.sawWhitespace else { problem("format", "whitespace outside strings (an entry line has none)"); return }
        // Exactly seq, time, type, actor, data, prev, hash, in this order, walked without an array.
        guard let seqNode = tape.firstChild(root), tape.keyEquals(seqNode, "seq"),
              let timeNode = tape.nextSibling(seqNode, in: root), tape.keyEquals(timeNode, "time"),
              let typeNode = tape.nextSibling(timeNode, in: root), tape.keyEquals(typeNode, "type"),
              let actorNode = tape.nextSibling(typeNode, in: root), tape.keyEquals(actorNode, "actor"),
              let data = tape.nextSibling(actorNode, in: root), tape.keyEquals(data, "data"),
              let prevNode = tape.nextSibling(data, in: root), tape.keyEquals(prevNode, "prev"),
              let hashNode = tape.nextSibling(prevNode, in: root), tape.keyEquals(hashNode, "hash"),
              tape.nextSibling(hashNode, in: root) == nil
        else {
            problem("format", "an entry has exactly the members seq, time, type, actor, data, prev, hash in this order")
            return
        }
        guard tape.kind(timeNode) == .string, tape.kind(typeNode) == .string, tape.kind(actorNode) == .string,
              tape.kind(data) == .object else {
            problem("format", "an entry needs string time, type and actor and an object data")
            return
        }
        var reader = FieldReader(tape: tape, facts: self)
        reader.read(type: typeNode, data: data, keys: keys)
        self = reader.facts
    }
}

/// Reads the typed fields of one entry's `data` off the tape, recording what is malformed.
struct FieldReader {
    let tape: JSONTape
    var facts: EntryFacts

    mutating func problem(_ code: String, _ message: String) { facts.problem(code, message) }

    mutating func read(type: Int, data: Int, keys: [String: VendingKey]?) {
        // Types this verifier does not know are hashed and chained, and nothing more (a newer
        // station may write them; audit-log.md §4).
        // A type is compared after decoding its escapes, as every string is (`"s\u0061le"` is a sale).
        guard let entryType = tape.plainBytes(type).map({ AuditEntryType(bytes: $0) }) ?? tape.string(type).flatMap({ AuditEntryType(rawValue: $0) })
        else { return }
        switch entryType {
        case .sale:
            facts.kind = .sale
            readSale(data, keys: keys)
        case .checkpoint:
            facts.kind = .checkpoint
            facts.through = integer(data, "through")
            if let h = tape.member(data, "head"), let hex = tape.plainBytes(h) { facts.head = LogDigest(hex: hex) }
            if let s = tape.member(data, "signature"), let b64 = tape.plainBytes(s), let bytes = Base64.decode(b64), bytes.count == 64 {
                facts.signature = bytes
            }
        case .reversal:
            facts.kind = .reversal
            facts.refundedSale = integer(data, "sale")
            if facts.refundedSale == nil { problem("format", "a reversal names the sale it reverses (integer \"sale\")") }
            facts.account = integer(data, "account")
            facts.carriedIn = money(data, "carried_restored") ?? 0
            facts.paid = money(data, "refund") ?? 0
        case .reprint:
            facts.kind = .reprint
            facts.saleID = integer(data, "sale")
            if facts.saleID == nil { problem("format", "a reprint names the sale it reprints (integer \"sale\")") }
        case .engineering, .keyChange:
            facts.kind = entryType == .engineering ? .engineering : .keyChange
            facts.saleID = integer(data, "sale")
            readTokens(data, keys: keys, expectedUnits: nil)
        case .station:
            facts.kind = .station
            facts.stationID = tape.member(data, "station_id").flatMap { tape.string($0) }
            facts.stationKey = tape.member(data, "public_key").flatMap { tape.string($0) }
        case .export:
            facts.kind = .export
        case .cardVoid:
            // A withdrawn card purchase: its energy and VAT go back to the account's carried credit.
            facts.kind = .cardVoid
            facts.saleID = integer(data, "sale")
            facts.account = integer(data, "account")
            facts.carriedIn = money(data, "credit_restored") ?? 0
            if facts.saleID != nil, facts.account == nil { problem("format", "a card void of a sale names its account (integer \"account\")") }
            facts.cardPurchase = CardPurchaseKey(tape, serial: tape.member(data, "serial"), sequence: integer(data, "sequence"), tid: integer(data, "tid"))
        default:
            facts.kind = .other
        }
    }

    func integer(_ object: Int, _ key: StaticString) -> Int64? {
        tape.member(object, key).flatMap { tape.integer($0) }
    }

    /// A money string (`-`? up to 15 digits, optionally `.` and 1–2 digits) as cents.
    mutating func money(_ object: Int, _ key: StaticString, _ name: StaticString? = nil) -> Int64? {
        money(tape.member(object, key), name ?? key)
    }

    mutating func money(_ node: Int?, _ label: StaticString) -> Int64? {
        guard let v = node, let text = tape.plainBytes(v) else {
            problem("format", "\"\(label)\" must be a money string")
            return nil
        }
        guard let cents = Money.cents(text, allowingSign: true) else {
            problem("format", "\"\(label)\" is not a money amount: \(Printable.text(text))")
            return nil
        }
        return cents
    }

    mutating func readTokens(_ data: Int, keys: [String: VendingKey]?, expectedUnits: Int64?) {
        readTokens(meter: tape.member(data, "meter"), tokens: tape.member(data, "tokens"), keys: keys, expectedUnits: expectedUnits)
    }

    mutating func readTokens(meter: Int?, tokens: Int?, keys: [String: VendingKey]?, expectedUnits: Int64?, expectedCurrency: Int128? = nil,
                             checkCurrency: Bool = true) {
        guard let meter, tape.kind(meter) == .object,
              let panNode = tape.member(meter, "pan"), let panText = tape.plainBytes(panNode), let pan = Digits.value(panText, count: 18),
              let baseDate = integer(meter, "base_date")
        else {
            problem("format", "a token entry needs its meter (an 18-digit pan, an integer base_date, …)")
            return
        }
        var decoder: TokenDecoder?
        if let keys {
            do {
                let (profile, key) = try MeterJSON.profile(tape, meter, keys: keys)
                decoder = try TokenDecoder(meter: profile, vendingKey: key)
            } catch {
                problem("token", "cannot derive the meter's key to check its tokens: \(error)")
            }
        }
        // No `tokens` member reads as no tokens: the units check below still applies.
        if let list = tokens, tape.kind(list) != .array { problem("format", "\"tokens\" must be an array"); return }
        var creditUnits: Int64 = 0
        var currencyCarried: Int128 = 0
        var nextToken = tokens.flatMap { tape.firstChild($0) }
        while let t = nextToken {
            nextToken = tape.nextSibling(t, in: tokens ?? t)
            facts.tokenCount += 1
            guard let d = tape.member(t, "token"), let digits = tape.plainBytes(d), Digits.value(digits, count: 20) != nil else {
                problem("token", "a token must be 20 digits")
                continue
            }
            let tid = integer(t, "tid")
            if let tid {
                let key = TIDKey(pan: pan, baseDate: baseDate, tid: tid)
                if facts.firstTID == nil { facts.firstTID = key } else { facts.moreTIDs.append(key) }
            }
            guard let decoder else { continue }
            let text = String(decoding: digits, as: UTF8.self)
            do {
                let decoded = try decoder.decode(text)
                if let tid, decoded.content.tid.map({ Int64($0.value) }) != tid {
                    problem("token", "token \(text) carries TID \(decoded.content.tid.map { "\($0.value)" } ?? "none"), the entry says \(tid)")
                }
                if case let .transferCredit(c) = decoded.content { creditUnits += Int64(c.amount.units) }
                if case let .currencyCredit(c) = decoded.content {
                    let (sum, overflow) = currencyCarried.addingReportingOverflow(c.amount.units)
                    if overflow { problem("units", "the currency tokens' amounts sum beyond 128 bits") } else { currencyCarried = sum }
                }
                facts.decrypted += 1
            } catch {
                problem("token", "token \(text) does not decrypt under the meter's key: \(error)")
            }
        }
        if let expectedUnits, decoder != nil, creditUnits != expectedUnits {
            problem("units", "the tokens carry \(creditUnits) tenths of a kWh, the entry says \(expectedUnits)")
        }
        if checkCurrency, decoder != nil, let expected = expectedCurrency ?? (expectedUnits != nil ? 0 : nil), currencyCarried != expected {
            problem("units", "the tokens carry \(currencyCarried) currency units (10⁻⁵), the entry says \(expected)")
        }
    }
}

/// Fixed-length decimal digit strings (PANs, tokens) read from bytes.
enum Digits {
    /// The value of exactly `count` ASCII digits, or nil. Only up to 19 digits are a value;
    /// longer runs (20-digit tokens) are only checked and the result must not be used.
    static func value(_ s: UnsafeBufferPointer<UInt8>, count: Int) -> UInt64? {
        guard s.count == count else { return nil }
        var v: UInt64 = 0
        for c in s {
            let d = c &- 48
            guard d < 10 else { return nil }
            v = v &* 10 &+ UInt64(d)
        }
        return v
    }
}

/// Cents beyond 64 bits (sums of a crafted line), printed like ``Money``.
enum CentsText {
    static func format(_ cents: Int128) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = cents.magnitude
        let frac = a % 100
        return "\(sign)\(a / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}

/// Bytes from a log quoted in a message: printable ASCII kept, the rest as `?`, at most 40.
enum Printable {
    static func text(_ s: UnsafeBufferPointer<UInt8>) -> String {
        let shown = s.prefix(40).map { $0 >= 32 && $0 < 127 ? $0 : 63 }
        return String(decoding: shown, as: UTF8.self) + (s.count > 40 ? "…" : "")
    }
}

/// Standard base64 with padding (RFC 4648 §4), strictly: length a multiple of 4, only the
/// alphabet, `=` only as the last one or two characters, and the unused bits of the last
/// character zero. (Foundation's decoder accepts more, and differs between versions.)
public enum Base64 {
    /// The bytes of strict base64 text; nil for anything that is not.
    public static func decode(_ s: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard s.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 4 * 3)
        @inline(__always) func value(_ c: UInt8) -> UInt32? {
            switch c {
            case 65...90: UInt32(c - 65)
            case 97...122: UInt32(c - 71)
            case 48...57: UInt32(c + 4)
            case 43: 62
            case 47: 63
            default: nil
            }
        }
        var i = 0
        while i < s.count {
            let last = i + 4 == s.count
            let pad = last ? (s[i + 3] == 61 ? (s[i + 2] == 61 ? 2 : 1) : 0) : 0
            var v: UInt32 = 0
            for k in 0..<4 {
                if k >= 4 - pad { v <<= 6; continue }
                guard let d = value(s[i + k]) else { return nil }
                v = v << 6 | d
            }
            switch pad {
            case 0: out += [UInt8(v >> 16), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            case 1: guard v & 0xFF == 0 else { return nil }; out += [UInt8(v >> 16), UInt8(v >> 8 & 0xFF)]
            default: guard v & 0xFFFF == 0 else { return nil }; out.append(UInt8(v >> 16))
            }
            i += 4
        }
        return out
    }
}

/// Which card purchase: the card's serial, the purchase number and the credit token's TID.
struct CardPurchaseKey: Equatable {
    var serial: UInt64
    var sequence: Int64
    var tid: Int64

    init?(_ tape: JSONTape, serial node: Int?, sequence: Int64?, tid: Int64?) {
        // 16 hex digits, no spaces: exactly the 8 bytes of a card serial.
        guard let node, let text = tape.plainBytes(node), text.count == 16, let sequence, let tid,
              let bytes = Hex.decode(String(decoding: text, as: UTF8.self)), bytes.count == 8 else { return nil }
        let v = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        self.serial = v
        self.sequence = sequence
        self.tid = tid
    }
}
