import Foundation
import GRDB
import STSCard
import STSTariff
import STSTokenFormat

/// What a card holds, verified with the station's issuer key, beside what the station recorded.
public struct CardReading: Sendable {
    public var contents: CardVending.Contents
    public var serial: String
    /// The station's pending purchase for this card, to be written the next time it is sold to.
    public var pending: CardPurchase?
    /// Whether the card's unapplied purchase was voided here (the next sale replaces it).
    public var unappliedVoided: Bool
}

/// What a supervisor's void did.
public struct CardVoidResult: Sendable {
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
            try tx.db.execute(sql: "INSERT OR REPLACE INTO cards (serial, meter_pan, issuer_key, issued_at, issued_by) VALUES (?, ?, ?, ?, ?)",
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
            return CardReading(contents: contents, serial: serial, pending: try tx.pendingCardPurchase(serial: serial), unappliedVoided: voided)
        }
    }

    /// Withdraws a card purchase that can never be applied (supervisor with second factor), with
    /// its card in the reader: the meter refused it (the card's return record shows the meter saw
    /// it and answered sequence gap or refused, and did not apply it), or it is pending and another
    /// station's purchase overtook it. The purchase is marked voided and logged (`card_void`); the
    /// energy and VAT it bought go back to the account as carried credit, so the next sale
    /// delivers them (fees and debts it paid stay paid). The card then takes the next sale,
    /// numbered after the last purchase its meter applied.
    public func voidCardPurchase<C: CardChannel>(meter pan: MeterPAN, sequence: UInt32, reason: String, by actor: Actor,
                                                 card session: inout CardSession<C>) throws -> CardVoidResult {
        try actor.require([.supervisor], to: "void card purchases", secondFactor: true)
        let issuer = try cardIssuer(for: &session)
        let contents = try cardStep("reading the card") { try CardVending.read(&session, master: issuer.key) }
        guard contents.info.meter == pan else { throw StationError.refused(.wrongCard("the card is for meter \(contents.info.meter), not \(pan)")) }
        return try voidPurchase(meter: pan, sequence: sequence, serial: serialText(contents.serial), reason: reason, actor: actor, card: contents)
    }

    /// Withdraws a **pending** card purchase without its card (supervisor with second factor):
    /// one that was never written, when the card is lost or another station's purchase overtook
    /// it. A purchase already written to a card is voided only with that card
    /// (``voidCardPurchase(meter:sequence:reason:by:card:)``), which shows the meter did not apply it.
    public func voidCardPurchase(meter pan: MeterPAN, sequence: UInt32, serial: String? = nil, reason: String, by actor: Actor) throws -> CardVoidResult {
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
            if purchase.state == .delivered {
                // Written to the card: only the card shows the meter did not apply it.
                guard let card else { throw notVoidable("it was written to the card: void it with the card in the reader") }
                guard card.purchase == purchase.record, card.unappliedPurchase != nil else {
                    throw notVoidable("the card does not carry it unapplied (the meter applied it, or the card took another purchase)")
                }
                guard let returned = card.returned, returned.result == 3 || returned.result == 4 else {
                    throw notVoidable("the card shows no refusal by the meter: insert it into the meter first, then void it if the meter refuses it")
                }
            }
            var restored = Money.zero
            var account: StationAccount?
            if let saleID = purchase.saleID {
                let (sale, _) = try tx.sale(id: saleID)
                guard sale["reversed_at"] as Int64? == nil else { throw notVoidable("its sale \(saleID) is reversed") }
                var open = try tx.openAccount(meter: pan.description)
                guard open.id == sale["account_id"] as Int64? else { throw notVoidable("its sale \(saleID) belongs to a closed account") }
                guard let energy = sale["energy"] as Int64?, let vat = sale["vat"] as Int64?,
                      (0...Money.maximumCents).contains(energy), (0...Money.maximumCents).contains(vat) else {
                    throw StationError.tampered("sale \(saleID): its energy or VAT is not a possible value")
                }
                restored = Money(cents: energy + vat)
                open.position.carriedCredit = Money(cents: min(Money.maximumCents, open.position.carriedCredit.cents + restored.cents))
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
            try tx.setCardPurchase(purchase.id, state: .voided, voidedLogSeq: seq)
            purchase.state = .voided
            return CardVoidResult(purchase: purchase, creditRestored: restored, carriedCredit: account?.position.carriedCredit ?? .zero)
        }
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
                let state: CardPurchaseState = e.state == "pending" ? .pending : .delivered
                try tx.insertCardPurchase(record, saleID: nil, meter: pan, serial: e.serial, state: state, source: "journal")
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
