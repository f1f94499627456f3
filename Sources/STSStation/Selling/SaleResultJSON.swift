import STSSupport
import STSTariff

/// The card a purchase was written to, as the sale's result names it.
public struct CardDelivery: Sendable, Equatable {
    /// The purchase number on the card.
    public var sequence: UInt32
    /// The card's serial (16 hex digits).
    public var serial: String
    /// Whether this completed a purchase left pending by a pulled card, rather than a new one.
    public var completedPending: Bool

    /// A delivery record.
    public init(sequence: UInt32, serial: String, completedPending: Bool) {
        self.sequence = sequence
        self.serial = serial
        self.completedPending = completedPending
    }
}

extension SaleReceipt {
    /// The object `stsvend sell --json` prints and `POST /api/v1/sales` answers (Specs/audit-log.md
    /// §4): `sale`, `token`, `tokens`, `tid`, `units`, `units_tenths`, `currency` (currency
    /// meters), `replayed`, `card` (card meters) and the signed `receipt` itself.
    public func resultJSON(card: CardDelivery? = nil, delivery: TokenDelivery? = nil, newline: Bool = true) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        w.field("sale", Int(saleID))
        if let first = tokens.first { w.field("token", first) } else { w.null("token") }
        w.field("tokens", tokens)
        if let tid { w.field("tid", Int(tid)) } else { w.null("tid") }
        w.rawText("units", Array(EnergyAmount.text(tenths: unitsTenths).utf8))
        w.field("units_tenths", Int(unitsTenths))
        // Only a currency sale's receipt has a "currency" member: the others are not parsed again.
        if Self.mentionsCurrency(json), let amount = (try? JSON.parse(String(decoding: json, as: UTF8.self)))?["currency"]?["amount"]?.string {
            w.rawText("currency", Array(amount.utf8))
        }
        w.field("replayed", replayed)
        if let card {
            w.object("card") { c in
                c.field("sequence", Int(card.sequence))
                c.field("serial", card.serial)
                c.field("completed_pending", card.completedPending)
            }
        }
        if let delivery {
            // A connected meter: what its token gateway said (or that delivery is still being retried).
            w.object("delivery") { d in
                d.field("state", delivery.state)
                d.field("attempts", delivery.attempts)
                d.field("result", delivery.result)
                if !delivery.lastError.isEmpty { d.field("last_error", delivery.lastError) }
            }
        }
        w.rawText("receipt", json)
        if newline { w.end() } else { w.close() }
        return w.bytes
    }

    static func mentionsCurrency(_ json: [UInt8]) -> Bool {
        let needle = Array(#""currency":"#.utf8)
        guard json.count >= needle.count else { return false }
        for i in 0...(json.count - needle.count) where json[i] == needle[0] && Array(json[i..<(i + needle.count)]) == needle { return true }
        return false
    }
}
