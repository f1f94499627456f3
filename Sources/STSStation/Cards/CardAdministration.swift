import Foundation
import STSAuditLog
import STSCard
import STSTariff
import STSTokenFormat

/// What a card holds, verified with the station's issuer key, beside what the station recorded.
public struct CardReading: Sendable {
    /// The card's files as read and verified (all MACs).
    public var contents: CardVending.Contents
    /// The card serial, 16 upper-case hex digits.
    public var serial: String
    /// The station's pending purchase for this card, to be written the next time it is sold to.
    public var pending: CardPurchase?
    /// Whether the card's unapplied purchase was voided here (the next sale replaces it).
    public var unappliedVoided: Bool
}

/// What a supervisor's void did.
public struct CardVoidResult: Sendable {
    /// The purchase as recorded, now in state `voided`.
    public var purchase: CardPurchase
    /// Money given back to the account as carried credit (the energy and VAT the purchase bought).
    public var creditRestored: Money
    /// The account's carried credit afterwards (the next sale carries it in).
    public var carriedCredit: Money
}

/// What a card sales journal import did.
public struct CardJournalImport: Sendable {
    /// Journal entries read (a torn last line is not one).
    public var entries: Int
    /// Purchases that became card purchases here.
    public var imported: Int
    /// Imported purchases still pending, completed the next time their card is sold to.
    public var pending: Int
    /// Purchases left out: for meters this station does not hold as card meters, or unusable records.
    public var skipped: Int
}

extension Station {
    /// Personalises a blank card as the user card of a registered card meter (operators and
    /// supervisors), with the station's card issuer key; recorded and logged (`card_issue`).
    public func issueCard<C: CardChannel>(_ session: inout CardSession<C>, meter pan: MeterPAN, by actor: Actor) throws -> CardInfo {
        try actor.require(sellers, to: "issue cards")
        let issuer = try read { tx -> CachedCardIssuer in
            guard try tx.meter(pan.description).kind == .card else { throw StationError.refused(.notACardMeter(meter: pan.description)) }
            return try cardIssuer(tx)
        }
        let info = try cardStep("personalising the card") { try CardVending.issue(&session, master: issuer.key, meter: pan, issuer: issuer.issuerID) }
        let serial = serialText(info.serial)
        try write { tx in
            try tx.db.execute(sql: """
                INSERT INTO cards (serial, meter_pan, issuer_key, issued_at, issued_by) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (serial) DO UPDATE SET meter_pan = excluded.meter_pan, issuer_key = excluded.issuer_key,
                    issued_at = excluded.issued_at, issued_by = excluded.issued_by
                """,
                              arguments: [serial, pan.description, issuer.name, tx.now, actor.name])
            try tx.log(.cardIssue, actor: actor.name) { w in
                w.field("pan", pan.description)
                w.field("serial", serial)
                w.field("issuer", Int(issuer.issuerID))
            }
        }
        return info
    }

    /// Reads and verifies a card with the station's issuer key (any signed-in user).
    public func readCard<C: CardChannel>(_ session: inout CardSession<C>, by actor: Actor) throws -> CardReading {
        let issuer = try cardIssuer(for: &session)
        let contents = try cardStep("reading the card") { try CardVending.read(&session, master: issuer.key) }
        let serial = serialText(contents.serial)
        return try read { tx in
            let voided = try contents.unappliedPurchase.map { try tx.isVoided(serial: serial, $0) } ?? false
            return CardReading(contents: contents, serial: serial, pending: try tx.pendingCardPurchase(serial: serial, meter: contents.info.meter),
                               unappliedVoided: voided)
        }
    }

    /// Withdraws a card purchase that can never be applied (supervisor with second factor), with
    /// its card in the reader. Either the card carries it unapplied and its return record shows the
    /// meter saw it since it was sold and refused it (sequence gap or refused token), or the card
    /// no longer carries it and its meter never applied it (a pending purchase another station's
    /// overtook). The purchase is marked voided and logged (`card_void`) and then taken off the
    /// card, so no meter can apply it later; the energy and VAT it bought go back to the account
    /// as carried credit and its month's units are given back, so the next sale delivers them
    /// (fees and debts it paid stay paid). The card then takes the next sale, numbered after the
    /// last purchase its meter applied. A token printed on the sale's receipt still works on a
    /// keypad, as after a reversal: the front reminds the supervisor to check it was not typed in.
    public func voidCardPurchase<C: CardChannel>(meter pan: MeterPAN, sequence: UInt32, reason: String,
                                                 by actor: Actor, card session: inout CardSession<C>) throws -> CardVoidResult {
        try actor.require([.supervisor], to: "void card purchases", secondFactor: true)
        let issuer = try cardIssuer(for: &session)
        let contents = try cardStep("reading the card") { try CardVending.read(&session, master: issuer.key) }
        guard contents.info.meter == pan else { throw StationError.refused(.wrongCard("the card is for meter \(contents.info.meter), not \(pan)")) }
        let result = try voidPurchase(meter: pan, sequence: sequence, serial: serialText(contents.serial), reason: reason,
                                      actor: actor, card: contents)
        // Off the card once the void is recorded; a card pulled now still has it, and the next
        // sale overwrites it (it is voided).
        if contents.unappliedPurchase == result.purchase.record {
            try cardStep("taking purchase \(sequence) off the card", pending: false) {
                try CardVending.withdraw(&session, master: issuer.key, expectedMeter: pan, withdrawn: result.purchase.record)
            }
        }
        return result
    }

    /// Withdraws a pending card purchase whose write to the card never started, without the card
    /// (supervisor with second factor): the card was lost, or another station's purchase took its
    /// place before it was written. Anything that may be on a card is voided only with that card
    /// (``voidCardPurchase(meter:sequence:reason:by:card:)``).
    public func voidCardPurchase(meter pan: MeterPAN, sequence: UInt32, serial: String? = nil, reason: String,
                                 by actor: Actor) throws -> CardVoidResult {
        try actor.require([.supervisor], to: "void card purchases", secondFactor: true)
        return try voidPurchase(meter: pan, sequence: sequence, serial: serial, reason: reason, actor: actor, card: nil)
    }

    private func voidPurchase(meter pan: MeterPAN, sequence: UInt32, serial: String?, reason: String, actor: Actor,
                              card: CardVending.Contents?) throws -> CardVoidResult {
        guard !reason.isEmpty, reason.utf8.count <= 500 else { throw StationError.invalid(.reason, "a void needs a reason (at most 500 bytes)") }
        func notVoidable(_ why: String) -> StationError { .refused(.cardPurchaseNotVoidable(meter: pan.description, sequence: sequence, why: why)) }
        return try write { tx in
            let rows = try Row.fetchAll(tx.db, sql: """
                SELECT * FROM card_purchases WHERE meter_pan = ? AND sequence = ? AND state != 'voided' ORDER BY id DESC
                """, arguments: [pan.description, Int64(sequence)]).filter { serial == nil || ($0["serial"] as String?) == serial }
            guard let row = rows.first else { throw notVoidable("the station holds no such purchase (or it is voided already)") }
            guard Set(rows.map { $0["serial"] as String? ?? "" }).count == 1 else {
                throw StationError.refused(.cardSerialNeeded(meter: pan.description, sequence: sequence))
            }
            var purchase = try StoreTransaction.purchase(row)
            try Self.checkVoidable(purchase, card: card, notVoidable)
            var restored = Money.zero
            var account: StationAccount?
            if let saleID = purchase.saleID {
                let (sale, _) = try tx.sale(id: saleID)
                guard sale["reversed_at"] as Int64? == nil else { throw notVoidable("its sale \(saleID) is reversed") }
                var open = try tx.openAccount(meter: pan.description)
                guard open.id == sale["account_id"] as Int64? else { throw notVoidable("its sale \(saleID) belongs to a closed account") }
                func figure(_ column: String, _ range: ClosedRange<Int64> = 0...Money.maximumCents) throws -> Int64 {
                    guard let v = sale[column] as Int64?, range.contains(v) else { throw StationError.tampered("sale \(saleID): its \(column) is not a possible value") }
                    return v
                }
                restored = Money(cents: try figure("energy") + figure("vat"))
                var p = open.position
                p.carriedCredit = Money(cents: min(Money.maximumCents, p.carriedCredit.cents + restored.cents))
                // The month's blocks and free units it used are given back, as a reversal does.
                let units = try figure("units", 0...Int64(TransferAmount.maximumUnits)), free = try figure("free_units", 0...units)
                if String(AuditTime.format(try figure("created_at", 0...AuditTime.latest)).prefix(7)) == open.month {
                    p.monthPurchasedTenths = max(0, p.monthPurchasedTenths - (units - free))
                    p.monthFreeTenths = max(0, p.monthFreeTenths - free)
                }
                open.position = p
                try tx.save(open)
                account = open
            }
            let seq = try tx.log(.cardVoid, actor: actor.name) { w in
                if let id = purchase.saleID { w.field("sale", Int(id)) } else { w.null("sale") }
                if let account { w.field("account", Int(account.id)) } else { w.null("account") }
                w.field("pan", pan.description)
                w.field("serial", purchase.serial)
                w.field("sequence", Int(sequence))
                w.field("tid", Int(purchase.record.tid))
                w.field("state", purchase.state.rawValue)
                w.field("credit_restored", restored.description)
                w.field("reason", reason)
            }
            try tx.setCardPurchase(purchase, to: .voided, voidedLogSeq: seq)
            purchase.state = .voided
            return CardVoidResult(purchase: purchase, creditRestored: restored, carriedCredit: account?.position.carriedCredit ?? .zero)
        }
    }

    /// Whether the evidence shows the purchase can never be applied (see the public calls).
    static func checkVoidable(_ purchase: CardPurchase, card: CardVending.Contents?, _ notVoidable: (String) -> StationError) throws {
        guard let card else {
            guard purchase.state == .pending, !purchase.writeStarted else {
                throw notVoidable("it may be on the card (its write started): void it with the card in the reader")
            }
            return
        }
        let applied = card.returned?.lastSequence ?? 0
        if card.purchase == purchase.record {
            guard card.unappliedPurchase != nil else { throw notVoidable("the card shows its meter applied it") }
            guard let returned = card.returned, returned.result == 3 || returned.result == 4,
                  UInt64(returned.minute) >= UInt64(purchase.record.issuedMinute) else {
                throw notVoidable("the card shows no refusal of it by the meter since it was sold: insert the card into the meter, then void it if the meter refuses it")
            }
            return
        }
        // Not on the card: it can only be applied if it was, before something replaced it.
        guard applied < purchase.record.sequence else { throw notVoidable("the card's meter applied purchase \(applied), so it may have applied this one") }
        guard purchase.state == .pending else { throw notVoidable("it was delivered and the card no longer carries it") }
    }

    /// Moves a card front's JSON-lines sales journal (`card sell --journal`) into the station,
    /// once (supervisors): every purchase it recorded for a meter the station holds becomes a card
    /// purchase here (pending ones are completed when their card is presented), and each meter's
    /// TID registry moves past the journal's TIDs, so keypad and card sales never share a TID.
    /// Purchases already imported are skipped, so a repeated import changes nothing.
    public func importCardJournal(_ journal: CardSalesJournal, by actor: Actor) throws -> CardJournalImport {
        try actor.require([.supervisor], to: "import card sales journals")
        guard FileManager.default.fileExists(atPath: journal.path) else { throw StationError.notFound("card sales journal \(journal.path)") }
        let entries = try journal.entries()
        var latest: [String: CardSalesJournal.Entry] = [:]
        var order: [String] = []
        for e in entries {
            let key = "\(e.serial)#\(e.sequence)"
            if latest[key] == nil { order.append(key) }
            latest[key] = e
        }
        return try write { tx in
            var result = CardJournalImport(entries: entries.count, imported: 0, pending: 0, skipped: 0)
            var tids: [String: UInt32] = [:]
            for key in order {
                guard let e = latest[key], let pan = try? MeterPAN(meterNumber: e.meter),
                      (try? tx.meter(pan.description))?.kind == .card, let record = try? e.record() else { result.skipped += 1; continue }
                guard record.tid <= TokenIdentifier.maximum else { result.skipped += 1; continue }
                tids[pan.description] = max(tids[pan.description] ?? 0, record.tid)
                let exists = try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM card_purchases WHERE serial = ? AND sequence = ?",
                                               arguments: [e.serial, Int64(e.sequence)]) ?? false
                if exists { continue }
                guard e.state == "pending" || e.state == "delivered" else { result.skipped += 1; continue }
                let state: CardPurchaseState = e.state == "pending" ? .pending : .delivered
                let id = try tx.insertCardPurchase(record, saleID: nil, meter: pan, serial: e.serial, state: state, source: "journal")
                // The card front may have written it before it recorded the delivery.
                try tx.markWriteStarted(id)
                result.imported += 1
                if state == .pending { result.pending += 1 }
            }
            for (pan, tid) in tids.sorted(by: { $0.key < $1.key }) {
                let m = try tx.meter(pan)
                let last = m.lastTIDBaseDate == m.profile.baseDate.year ? m.lastTID : 0
                guard tid > last else { continue }
                try tx.db.execute(sql: "UPDATE meters SET last_tid = ?, last_tid_base_date = ? WHERE pan = ?",
                                  arguments: [Int64(tid), m.profile.baseDate.year, pan])
            }
            try tx.log(.cardJournalImport, actor: actor.name) { w in
                w.field("entries", result.entries)
                w.field("imported", result.imported)
                w.field("pending", result.pending)
                w.field("skipped", result.skipped)
                w.array("meters") { a in
                    for (pan, tid) in tids.sorted(by: { $0.key < $1.key }) {
                        a.element { $0.field("pan", pan); $0.field("last_tid", Int(tid)) }
                    }
                }
            }
            return result
        }
    }

    /// Whether a registered meter takes its credit on a card or on its keypad.
    public func meterKind(_ pan: MeterPAN) throws -> MeterKind {
        try read { tx in try tx.meter(pan.description).kind }
    }
}
