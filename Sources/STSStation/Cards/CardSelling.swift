import Foundation
import STSCard
import STSTokenFormat

extension Station {
    /// Sells credit to a card meter and writes it onto the customer's card, as one durable,
    /// idempotent sale (operators and supervisors).
    ///
    /// The sale is priced, committed and logged exactly as a keypad sale, together with a
    /// `pending` card purchase, **before** the card is written; the card is then written, read back
    /// and the purchase marked delivered. A card pulled mid-write leaves the purchase pending: the
    /// next time the card is presented (any request id) that same purchase is written, never a
    /// second sale. The same request id again returns the original sale (`replayed`).
    public func sellOnCard<C: CardChannel>(_ request: SaleRequest, by actor: Actor, card session: inout CardSession<C>) throws -> CardSaleResult {
        try actor.require(sellers, to: "sell")
        let issuer = try cardIssuer(for: &session)
        let contents = try cardStep("reading the card") { try CardVending.read(&session, master: issuer.key) }
        guard contents.info.type == .user else { throw StationError.refused(.wrongCard("a \(contents.info.type) card cannot carry purchases")) }
        guard contents.info.meter == request.meter else {
            throw StationError.refused(.wrongCard("the card is for meter \(contents.info.meter), not \(request.meter)"))
        }
        let serial = serialText(contents.serial)

        // Decide, in one transaction, which purchase the card takes.
        let plan: (purchase: CardPurchase, receipt: SaleReceipt?, completed: Bool, withdrawn: PurchaseRecord?) = try write { tx in
            let meter = try tx.meter(request.meter.description)
            guard meter.kind == .card else { throw StationError.refused(.notACardMeter(meter: request.meter.description)) }
            if let earlier = try tx.sale(requestID: request.requestID) {
                guard earlier.request == request.fingerprint else { throw StationError.requestIDReused(request.requestID) }
                var receipt = earlier.receipt
                receipt.replayed = true
                guard let purchase = try tx.cardPurchase(saleID: receipt.saleID) else {
                    throw StationError.refused(.notACardMeter(meter: request.meter.description))
                }
                switch purchase.state {
                case .delivered: return (purchase, receipt, false, nil)
                case .voided:
                    throw StationError.refused(.cardPurchaseNotVoidable(meter: purchase.meter.description, sequence: purchase.record.sequence,
                                                                         why: "sale \(receipt.saleID)'s card purchase was voided; sell again with a new request id"))
                case .pending:
                    // The retry of a sale whose card write was interrupted: that card, that purchase.
                    guard purchase.serial == serial else {
                        throw StationError.refused(.wrongCard("request \(request.requestID)'s purchase is pending on card \(purchase.serial), not on this card \(serial): present that card"))
                    }
                }
            }
            // Only a purchase this station voided may be overwritten on the card.
            let unappliedVoided = try contents.unappliedPurchase.map { try tx.isVoided(serial: serial, $0) } ?? false
            if let pending = try tx.pendingCardPurchase(serial: serial, meter: request.meter) {
                try Self.checkDeliverable(pending, on: contents, unappliedVoided: unappliedVoided)
                var receipt = try pending.saleID.map { try tx.sale(id: $0).receipt }
                receipt?.replayed = true
                return (pending, receipt, true, unappliedVoided ? Self.voidedOnCard(contents, purchase: pending) : nil)
            }
            var sequence = CardVending.nextSequence(contents)
            var withdrawn: PurchaseRecord?
            if let unapplied = contents.unappliedPurchase {
                guard unappliedVoided else { throw StationError.refused(.cardBusy(sequence: unapplied.sequence)) }
                // The voided purchase is replaced, numbered after the last one the meter applied.
                withdrawn = unapplied
                sequence = (contents.returned?.lastSequence ?? 0) + 1
            }
            let receipt = try sell(request, by: actor, tx, card: (serial, sequence))
            guard (1...4).contains(receipt.tokens.count), let tid = receipt.tid, let units = UInt32(exactly: receipt.unitsTenths) else {
                throw StationError.refused(.nothingForCard)
            }
            let record = PurchaseRecord(sequence: sequence, station: cardStationNumber, issuedMinute: UInt32(clamping: max(0, tx.now / 60)),
                                        units: units, kind: .electricity, tokens: try receipt.tokens.map { try TokenNumber($0) },
                                        tid: UInt32(truncatingIfNeeded: tid))
            let id = try tx.insertCardPurchase(record, saleID: receipt.saleID, meter: request.meter, serial: serial, state: .pending)
            let purchase = CardPurchase(id: id, saleID: receipt.saleID, meter: request.meter, serial: serial, record: record, state: .pending)
            return (purchase, receipt, false, withdrawn)
        }
        if plan.purchase.state == .pending {
            if !plan.purchase.writeStarted { try write { tx in try tx.markWriteStarted(plan.purchase.id) } }
            try deliver(plan.purchase, withdrawn: plan.withdrawn, to: &session, issuer: issuer, by: actor)
        }
        return CardSaleResult(receipt: plan.receipt, purchase: plan.purchase.record, serial: serial, completedPending: plan.completed)
    }

    /// Writes a pending purchase (read back by the write itself) and marks it delivered (logged `card_delivered`).
    func deliver<C: CardChannel>(_ purchase: CardPurchase, withdrawn: PurchaseRecord?, to session: inout CardSession<C>,
                                 issuer: CachedCardIssuer, by actor: Actor) throws {
        // The write reads the file back and compares it (CardSession.write): no second read here.
        _ = try cardStep("writing purchase \(purchase.record.sequence)", pending: true) {
            try CardVending.sell(&session, master: issuer.key, expectedMeter: purchase.meter, record: purchase.record, withdrawn: withdrawn)
        }
        try write { tx in
            try tx.setCardPurchase(purchase, to: .delivered)
            try tx.log(.cardDelivered, actor: actor.name) { w in
                if let id = purchase.saleID { w.field("sale", Int(id)) } else { w.null("sale") }
                w.field("pan", purchase.meter.description)
                w.field("serial", purchase.serial)
                w.field("sequence", Int(purchase.record.sequence))
                w.field("tid", Int(purchase.record.tid))
            }
        }
    }

    /// A pending purchase can still be written when the card holds it already (an interrupted
    /// write), when it is the card's next purchase, or when it replaces a purchase this station
    /// voided, numbered after the meter's last.
    static func checkDeliverable(_ pending: CardPurchase, on contents: CardVending.Contents, unappliedVoided: Bool) throws {
        if contents.purchase == pending.record { return }
        let replacesVoided = unappliedVoided && (contents.returned?.lastSequence ?? 0) + 1 == pending.record.sequence
        if contents.unappliedPurchase == nil, CardVending.nextSequence(contents) == pending.record.sequence { return }
        if replacesVoided { return }
        throw StationError.refused(.cardOvertaken(sale: pending.saleID, sequence: pending.record.sequence,
                                                  cardSequence: contents.purchase?.sequence ?? 0))
    }

    /// The unapplied purchase a pending replacement overwrites, when the replacement's number says it does.
    static func voidedOnCard(_ contents: CardVending.Contents, purchase: CardPurchase) -> PurchaseRecord? {
        guard let unapplied = contents.unappliedPurchase, unapplied != purchase.record,
              (contents.returned?.lastSequence ?? 0) + 1 == purchase.record.sequence else { return nil }
        return unapplied
    }

    /// Runs one step against the card: what the card says is wrong is a card error; a card that
    /// could not be reached (pulled, reader gone) is `cardUnreachable`, with the pending sale named.
    func cardStep<T>(_ what: String, pending: Bool = false, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as StationError { throw e } catch let e as CardError {
            if case .card = e, pending { throw StationError.cardUnreachable(interrupted(what)) }
            throw StationError.card(e)
        } catch {
            throw StationError.cardUnreachable(pending ? interrupted(what) : "\(what): \(error)")
        }
    }

    private func interrupted(_ what: String) -> String {
        "the card was removed or stopped answering while \(what); the sale is recorded and pending: present the same card again to complete it (do not sell again)"
    }
}
