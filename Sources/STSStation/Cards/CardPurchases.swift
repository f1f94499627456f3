import Foundation
import STSCard
import STSTokenFormat

/// Where a card purchase stands at the station.
public enum CardPurchaseState: String, Sendable {
    /// Recorded and paid, not yet read back from the card: completed the next time the card is presented.
    case pending
    /// Written to the card and read back.
    case delivered
    /// Withdrawn by a supervisor (the meter refused it, or another station's purchase overtook it).
    case voided
}

/// One purchase written, or to be written, to a card, as the station records it.
public struct CardPurchase: Sendable, Equatable {
    /// The station's row number.
    public var id: Int64
    /// The sale that paid for it (nil for purchases imported from a card sales journal).
    public var saleID: Int64?
    /// The card meter the purchase is for.
    public var meter: MeterPAN
    /// The card serial, 16 hex digits.
    public var serial: String
    /// The purchase record (sequence, tokens, TID, units) as written to the card.
    public var record: PurchaseRecord
    /// Pending, delivered or voided.
    public var state: CardPurchaseState
    /// Whether a write of it to the card was ever started (it may be on the card even if pending).
    public var writeStarted: Bool = false
}

/// The result of a card sale: the sale's receipt, and the purchase on the card.
public struct CardSaleResult: Sendable {
    /// The receipt of the sale (nil when an imported journal purchase was completed).
    public var receipt: SaleReceipt?
    /// The purchase now on the card.
    public var purchase: PurchaseRecord
    /// The card serial, 16 upper-case hex digits.
    public var serial: String
    /// True when the card took a purchase sold earlier whose write was interrupted, not a new sale.
    public var completedPending: Bool
}

extension StoreTransaction {
    static func purchase(_ r: Row) throws -> CardPurchase {
        let pan: String = r["meter_pan"]
        func u32(_ c: String) throws -> UInt32 {
            guard let v = r[c] as Int64?, let u = UInt32(exactly: v) else { throw StationError.tampered("card purchase \(r["id"] as Int64? ?? 0): its \(c) is not possible") }
            return u
        }
        guard let kindCode = r["kind"] as Int64?, let kindByte = UInt8(exactly: kindCode), let kind = CreditKind(rawValue: kindByte),
              let state = CardPurchaseState(rawValue: r["state"]), let meter = try? MeterPAN(meterNumber: pan),
              let tokens = try? (r["tokens"] as String).split(separator: " ").map({ try TokenNumber(String($0)) }), (1...4).contains(tokens.count)
        else { throw StationError.tampered("card purchase \(r["id"] as Int64? ?? 0) is not a possible record") }
        let record = PurchaseRecord(sequence: try u32("sequence"), station: try u32("station"), issuedMinute: try u32("minute"),
                                    units: try u32("units"), kind: kind, tokens: tokens, tid: try u32("tid"))
        return CardPurchase(id: r["id"], saleID: r["sale_id"], meter: meter, serial: r["serial"], record: record, state: state,
                            writeStarted: (r["write_started"] as Int64? ?? 1) != 0)
    }

    func cardPurchase(saleID: Int64) throws -> CardPurchase? {
        try Row.fetchOne(db, sql: "SELECT * FROM card_purchases WHERE sale_id = ?", arguments: [saleID]).map(Self.purchase)
    }

    /// The card's purchase still to be written, if any (at most one: a card carries one purchase).
    func pendingCardPurchase(serial: String, meter: MeterPAN) throws -> CardPurchase? {
        try Row.fetchOne(db, sql: "SELECT * FROM card_purchases WHERE serial = ? AND meter_pan = ? AND state = 'pending' ORDER BY sequence DESC LIMIT 1",
                         arguments: [serial, meter.description]).map(Self.purchase)
    }

    /// Whether the station voided exactly this purchase on this card.
    func isVoided(serial: String, _ record: PurchaseRecord) throws -> Bool {
        try Row.fetchAll(db, sql: "SELECT * FROM card_purchases WHERE serial = ? AND sequence = ? AND state = 'voided'",
                         arguments: [serial, Int64(record.sequence)]).contains { (try? Self.purchase($0).record) == record }
    }

    @discardableResult
    func insertCardPurchase(_ record: PurchaseRecord, saleID: Int64?, meter: MeterPAN, serial: String, state: CardPurchaseState,
                            source: String = "station") throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO card_purchases (sale_id, meter_pan, serial, sequence, station, minute, units, kind, tokens, tid, state, source, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [saleID, meter.description, serial, Int64(record.sequence), Int64(record.station), Int64(record.issuedMinute),
                             Int64(record.units), Int64(record.kind.rawValue), record.tokens.map(\.digits).joined(separator: " "),
                             Int64(record.tid), state.rawValue, source, now])
        return try db.lastInsertedRowID
    }

    /// Moves a purchase from the state it was read in to `state`; refused when another process moved it first
    /// (a void while its write was under way must not be turned back into a delivery).
    func setCardPurchase(_ purchase: CardPurchase, to state: CardPurchaseState, voidedLogSeq: Int64? = nil) throws {
        try db.execute(sql: "UPDATE card_purchases SET state = ?, updated_at = ?, voided_log_seq = COALESCE(?, voided_log_seq) WHERE id = ? AND state = ?",
                       arguments: [state.rawValue, now, voidedLogSeq, purchase.id, purchase.state.rawValue])
        guard db.changesCount == 1 else {
            throw StationError.refused(.cardPurchaseChanged(sequence: purchase.record.sequence, now: purchase.state.rawValue))
        }
    }

    /// Records that a purchase's write to its card begins (its own commit, before the card is touched).
    func markWriteStarted(_ id: Int64) throws {
        try db.execute(sql: "UPDATE card_purchases SET write_started = 1 WHERE id = ?", arguments: [id])
    }
}
