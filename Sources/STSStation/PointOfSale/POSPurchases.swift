import Foundation
import STSTariff
import STSTokenFormat

/// One point-of-sale purchase for ``Station/posPurchases(_:)``: the message, the sale it asks
/// for, whether it is a retry, and how its answer is made from the committed sale.
public struct POSPurchase: Sendable {
    /// The message, the sale, and whether it came as a retry.
    public var message: POSMessage, sale: SaleRequest, retry: Bool
    /// Makes the answer stored with the sale (inside its transaction).
    public var render: @Sendable (POSSale) throws -> [UInt8]

    /// A purchase.
    public init(message: POSMessage, sale: SaleRequest, retry: Bool, render: @escaping @Sendable (POSSale) throws -> [UInt8]) {
        self.message = message
        self.sale = sale
        self.retry = retry
        self.render = render
    }
}

extension Station {
    /// A point-of-sale purchase, exactly once per message id. New: sold through the same sale
    /// operation as the counter (pricing, arrears first, the signed log), its answer rendered by
    /// `render` inside the sale's transaction and stored with it, so it is durable before it is
    /// sent. A retry (`retry`, same id and the same request) gets the stored answer and logs a
    /// reprint, never a second token; a retry of a purchase never received is sold as new. The
    /// same id again without `retry`, from another client, or as another kind of message is
    /// `pos-duplicate-message`. A purchase whose reversal came first is `pos-purchase-reversed`.
    /// `render` may throw to refuse the sale (nothing is kept).
    public func posPurchase(_ m: POSMessage, sale request: SaleRequest, retry: Bool,
                            render: (POSSale) throws -> [UInt8]) throws -> POSAnswer {
        try requirePOSStore()
        return try write { tx in try posPurchase(m, sale: request, retry: retry, render: render, tx) }
    }

    /// Many purchases in one durable transaction (the server's group commit), each in its own
    /// savepoint: a refused one costs only itself. One outcome per purchase, in order; a store
    /// failure fails every purchase of the group (none is kept).
    public func posPurchases(_ group: [POSPurchase]) -> [Result<POSAnswer, StationError>] {
        do {
            try requirePOSStore()
            return try write { tx in
                try group.map { p throws -> Result<POSAnswer, StationError> in
                    do {
                        var answer: POSAnswer?
                        try tx.db.inSavepoint {
                            answer = try posPurchase(p.message, sale: p.sale, retry: p.retry, render: p.render, tx)
                            return .commit
                        }
                        guard let answer else { return .failure(StationError.store("the purchase was not recorded")) }
                        return .success(answer)
                    } catch let e as StationError {
                        tx.forgetHead()
                        return .failure(e)
                    }
                    // Any other error is the store's: the whole group rolls back (and PostgreSQL's
                    // serialization failures are retried by `write`), as in `sellBatch`.
                }
            }
        } catch let e as StationError {
            return group.map { _ in .failure(e) }
        } catch {
            return group.map { _ in .failure(StationError.store("the purchases could not be committed")) }
        }
    }

    func posPurchase(_ m: POSMessage, sale request: SaleRequest, retry: Bool, render: (POSSale) throws -> [UInt8], _ tx: StoreTransaction) throws -> POSAnswer {
        try tx.requireEnabled(m.client)
        let actor = m.client.actor
        if let row = try tx.posMessage(m.id) {
            if (row["client"] as String) == m.client.name, (row["kind"] as String) == "barred" { throw StationError.refused(.posPurchaseReversed(id: m.id)) }
            guard (row["client"] as String) == m.client.name, (row["kind"] as String) == "purchase", retry else {
                throw StationError.refused(.posDuplicateMessage(id: m.id))
            }
            guard (row["fingerprint"] as String) == m.fingerprint else { throw StationError.refused(.posRetryDiffers(id: m.id)) }
            let state: String = row["state"]
            guard state != "reversed" else { throw StationError.refused(.posPurchaseReversed(id: m.id)) }
            // The tokens are now in the point of sale's hands: no reversal takes them back.
            try tx.db.cachedStatement(sql: "UPDATE pos_messages SET state = 'handed-out', updated_at = ? WHERE id = ? AND state = 'issued'").execute(arguments: [tx.now, m.id])
            if let sale = row["sale_id"] as Int64? {
                try tx.log(.reprint, actor: actor.name) { w in w.field("sale", Int(sale)); w.field("pos_message", m.id) }
            }
            return POSAnswer(body: Array(row["response"] as Data), state: "issued", replayed: true)
        }
        let receipt = try sell(request, by: actor, tx)
        guard !receipt.replayed, let breakdown = receipt.breakdown else { throw StationError.refused(.posDuplicateMessage(id: m.id)) }
        let (view, tariff) = try tx.posMeterView(request.meter.description)
        let body = try render(POSSale(receipt: receipt, breakdown: breakdown, meter: view, vatBasisPoints: tariff.vatBasisPoints, time: tx.now))
        try tx.insertPOSMessage(m, kind: "purchase", originalID: nil, state: retry ? "handed-out" : "issued", sale: receipt.saleID,
                                meter: request.meter.description, response: body)
        return POSAnswer(body: body, state: "issued", replayed: false)
    }

    /// A point-of-sale advice on purchase `purchaseID`, exactly once per advice id: a repeat of it
    /// gets the stored answer. A confirmation marks the purchase final. A reversal undoes it by the
    /// station's reversal rules (the latest sale on an open account, not on a card) when the client
    /// may reverse and the tokens were not handed out by a retry or reprint, nor confirmed; else it
    /// is declined (`declined`, the reason in `render`'s text). A reversal of a purchase never
    /// received is kept (`unmatched`) and bars that purchase id. A confirmation of an unknown
    /// purchase is `not-found` and not kept. `render` makes the stored answer from the outcome.
    public func posAdvice(_ m: POSMessage, kind: POSAdviceKind, purchaseID: String,
                          render: (_ state: String, _ why: String?) throws -> [UInt8]) throws -> POSAnswer {
        try requirePOSStore()
        let actor = m.client.actor
        return try write { tx in
            try tx.requireEnabled(m.client)
            if let row = try tx.posMessage(m.id) {
                guard (row["client"] as String) == m.client.name, (row["kind"] as String) == kind.rawValue,
                      (row["original_id"] as String?) == purchaseID else { throw StationError.refused(.posDuplicateMessage(id: m.id)) }
                return POSAnswer(body: Array(row["response"] as Data), state: row["state"], replayed: true)
            }
            let purchase = try tx.posMessage(purchaseID)
            let ours = purchase.map { ($0["client"] as String) == m.client.name && ($0["kind"] as String) == "purchase" } ?? false
            let saleID = ours ? purchase?["sale_id"] as Int64? : nil
            let meterPAN = ours ? purchase?["meter_pan"] as String? : nil
            var state: String, why: String?
            switch kind {
            case .confirmation:
                guard ours, let purchase else { throw StationError.notFound("purchase \(purchaseID)") }
                guard (purchase["state"] as String) != "reversed" else { throw StationError.refused(.posPurchaseReversed(id: purchaseID)) }
                try tx.db.execute(sql: "UPDATE pos_messages SET state = 'confirmed', updated_at = ? WHERE id = ?", arguments: [tx.now, purchaseID])
                state = "confirmed"
            case .reversal:
                if !ours {
                    state = "unmatched"
                    why = "no purchase \(purchaseID) was received; it will not be made if it arrives"
                    // The purchase id is taken by a bar: a purchase arriving later (at any station:
                    // the id is the primary key) finds it, or fails to insert its own row.
                    if purchase == nil {
                        try tx.insertPOSMessage(POSMessage(id: purchaseID, client: m.client, origin: m.origin, fingerprint: "barred"), kind: "barred",
                                                originalID: m.id, state: "reversed", sale: nil, meter: nil, response: [])
                    }
                } else if let purchase, let saleID {
                    let purchaseState: String = purchase["state"]
                    (state, why) = ("declined", nil)
                    if !m.client.reversals {
                        why = "this point of sale's reversals are declined (a prepaid token cannot be recalled): the token stays valid"
                    } else if purchaseState == "confirmed" {
                        why = "the purchase was confirmed"
                    } else if purchaseState == "handed-out" {
                        why = "its tokens were handed out by a retry or a reprint"
                    } else if purchaseState == "reversed" {
                        (state, why) = ("reversed", nil)
                    } else if try Bool.fetchOne(tx.db, sql: "SELECT 1 FROM deliveries WHERE sale_id = ?", arguments: [saleID]) == true {
                        why = "its tokens go to a connected meter through the head-end"
                    } else {
                        do {
                            _ = try reverse(sale: saleID, reason: "point-of-sale reversal \(m.id) by \(m.client.name)", actor: actor.name, tx)
                            try tx.db.execute(sql: "UPDATE pos_messages SET state = 'reversed', updated_at = ? WHERE id = ?", arguments: [tx.now, purchaseID])
                            state = "reversed"
                        } catch let StationError.refused(refusal) {
                            why = StationError.refused(refusal).description
                        }
                    }
                } else { throw StationError.tampered("point-of-sale purchase \(purchaseID) has no sale") }
            }
            let body = try render(state, why)
            try tx.insertPOSMessage(m, kind: kind.rawValue, originalID: purchaseID, state: state, sale: saleID, meter: meterPAN, response: body)
            try tx.log(.posAdvice, actor: actor.name) { w in
                w.field("advice", kind.rawValue)
                w.field("id", m.id)
                w.field("purchase", purchaseID)
                if let saleID { w.field("sale", Int(saleID)) }
                w.field("outcome", state)
                if let why { w.field("reason", why) }
            }
            return POSAnswer(body: body, state: state, replayed: false)
        }
    }

    /// The stored answer of a client's purchase to reprint (logged as a reprint; the tokens count
    /// as handed out): the one named by `reference` (its message id or its sale number), else
    /// the client's latest purchase for the meter that was not reversed.
    public func posReprint(client: POSClient, meter pan: MeterPAN, reference: String?) throws -> [UInt8] {
        try requirePOSStore()
        return try write { tx in
            try tx.requireEnabled(client)
            let row: Row?
            let base = "SELECT id, sale_id, response FROM pos_messages WHERE client = ? AND kind = 'purchase' AND meter_pan = ? AND state <> 'reversed'"
            if let reference, let sale = Int64(reference), sale > 0 {
                row = try Row.fetchOne(tx.db, sql: base + " AND sale_id = ?", arguments: [client.name, pan.description, sale])
            } else if let reference {
                row = try Row.fetchOne(tx.db, sql: base + " AND id = ?", arguments: [client.name, pan.description, reference])
            } else {
                row = try Row.fetchOne(tx.db, sql: base + " ORDER BY sale_id DESC LIMIT 1", arguments: [client.name, pan.description])
            }
            guard let row, let sale = row["sale_id"] as Int64? else {
                throw StationError.notFound(reference.map { "purchase \($0) of meter \(pan)" } ?? "a purchase of meter \(pan) by \(client.name)")
            }
            try tx.db.execute(sql: "UPDATE pos_messages SET state = 'handed-out', updated_at = ? WHERE id = ? AND state = 'issued'", arguments: [tx.now, row["id"] as String])
            try tx.log(.reprint, actor: client.actor.name) { w in w.field("sale", Int(sale)); w.field("pos_message", row["id"] as String) }
            return Array(row["response"] as Data)
        }
    }

    /// The key change tokens issued to a meter and not yet confirmed (a key-change campaign's,
    /// or a single key change's), oldest first; no new token is made.
    public func pendingKeyChangeTokens(meter pan: MeterPAN) throws -> [String] {
        try requirePOSStore()
        return try read { tx in
            _ = try tx.meter(pan.description)
            let lists = try String.fetchAll(tx.db, sql: """
                SELECT s.tokens FROM campaign_meters c JOIN sales s ON s.id = c.sale_id
                WHERE c.meter_pan = ? AND c.state = 'issued' ORDER BY s.id
                """, arguments: [pan.description])
            return lists.flatMap { $0.split(separator: " ").map(String.init) }
        }
    }
}
