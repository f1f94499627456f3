import Foundation
import STSAuditLog
import STSBatch
import STSTariff
import STSTokenFormat

extension Station {
    /// The receipt of an earlier sale, from its record: the same tokens, never a new TID.
    /// Logged as a reprint.
    public func reprint(sale id: Int64? = nil, requestID: String? = nil, by actor: Actor) throws -> SaleReceipt {
        try actor.require(sellers, to: "reprint")
        return try write { tx in
            var receipt: SaleReceipt
            if let id { receipt = try tx.sale(id: id).receipt } else if let requestID, let r = try tx.sale(requestID: requestID) {
                receipt = r.receipt
            } else { throw StationError.notFound("sale \(id.map { "\($0)" } ?? requestID ?? "")") }
            try tx.log(.reprint, actor: actor.name) { w in w.field("sale", Int(receipt.saleID)) }
            // A point-of-sale purchase reprinted here has its tokens handed out: no reversal advice undoes it.
            try tx.db.execute(sql: "UPDATE pos_messages SET state = 'handed-out', updated_at = ? WHERE sale_id = ? AND kind = 'purchase' AND state = 'issued'",
                              arguments: [tx.now, receipt.saleID])
            receipt.replayed = true
            return receipt
        }
    }

    /// Reverses an unused credit sale (supervisors): refunds the money and restores the account
    /// as it was before the sale. Only the latest sale on an open account can be reversed, so the
    /// account's figures are exactly undone. The token's TID stays used; the supervisor confirms
    /// the token was not entered (a meter would still accept it).
    public func reverse(sale id: Int64, reason: String, by actor: Actor) throws -> Money {
        try actor.require([.supervisor], to: "reverse sales")
        guard !reason.isEmpty else { throw StationError.invalid(.reason, "a reversal needs a reason") }
        return try write { tx in try reverse(sale: id, reason: reason, actor: actor.name, tx) }
    }

    /// A reversal inside `tx` by the station's rules; every refusal comes before anything is written.
    func reverse(sale id: Int64, reason: String, actor: String, _ tx: StoreTransaction) throws -> Money {
        let (row, _) = try tx.sale(id: id)
        guard (row["kind"] as String) == "credit" else { throw StationError.refused(.notACreditSale(sale: id)) }
        guard row["reversed_at"] as Int64? == nil else { throw StationError.refused(.alreadyReversed(sale: id)) }
        let pan: String = row["meter_pan"]
        var account = try tx.openAccount(meter: pan)
        guard let saleAccount = row["account_id"] as Int64?, account.id == saleAccount else {
            throw StationError.refused(.closedAccount(sale: id))
        }
        let latest = try Int64.fetchOne(tx.db, sql: "SELECT MAX(id) FROM sales WHERE account_id = ? AND kind = 'credit' AND reversed_at IS NULL",
                                        arguments: [account.id])
        guard latest == id else { throw StationError.refused(.notLatestSale(sale: id, later: latest ?? 0)) }
        // A card sale's purchase is on (or for) the card: only a void takes it off.
        if try tx.cardPurchase(saleID: id) != nil { throw StationError.refused(.cardSaleNeedsVoid(sale: id)) }
        // A card void after the sale moved credit into the carry a reversal would restore.
        let voidedSince = try Bool.fetchOne(tx.db, sql: """
            SELECT 1 FROM card_purchases cp JOIN sales s ON s.id = cp.sale_id
            WHERE cp.state = 'voided' AND s.account_id = ? AND cp.voided_log_seq > ?
            """, arguments: [account.id, row["log_seq"] as Int64? ?? 0]) ?? false
        guard !voidedSince else { throw StationError.refused(.voidedAfterSale(sale: id)) }
        // The sale row's figures are checked before they are given back to the account.
        func figure(_ column: String, _ range: ClosedRange<Int64> = 0...Money.maximumCents) throws -> Int64 {
            guard let v = row[column] as Int64?, range.contains(v) else {
                throw StationError.tampered("sale \(id): its \(column) is not a possible value")
            }
            return v
        }
        let units = try figure("units", 0...Int64(TransferAmount.maximumUnits)), free = try figure("free_units", 0...units)
        let saleMonth = String(AuditTime.format(try figure("created_at", 0...AuditTime.latest)).prefix(7))
        var p = account.position
        p.arrears = Money(cents: min(Money.maximumCents, p.arrears.cents + (try figure("arrears"))))
        p.debt = Money(cents: min(Money.maximumCents, p.debt.cents + (try figure("debt"))))
        p.fixedChargesDue = Money(cents: min(Money.maximumCents, p.fixedChargesDue.cents + (try figure("fixed"))))
        if saleMonth == account.month {
            p.monthPurchasedTenths = max(0, p.monthPurchasedTenths - (units - free))
            p.monthFreeTenths = max(0, p.monthFreeTenths - free)
        }
        p.carriedCredit = Money(cents: try figure("carried_in"))
        account.position = p
        try tx.save(account)
        try tx.db.execute(sql: "UPDATE sales SET reversed_at = ?, reversed_by = ? WHERE id = ?", arguments: [tx.now, actor, id])
        let refund = Money(cents: try figure("money"))
        try tx.log(.reversal, actor: actor) { w in
            w.field("sale", Int(id))
            w.field("account", Int(account.id))
            w.field("refund", refund.description)
            w.field("carried_restored", p.carriedCredit.description)
            w.field("reason", reason)
        }
        return refund
    }

    /// Closes the meter's account with its balance and opens a new one for `customer` on the
    /// same meter: what the old tenant owes or is owed stays with the old account.
    @discardableResult
    public func changeTenant(meter pan: MeterPAN, customer: String, arrears: Money = .zero, by actor: Actor) throws -> Int64 {
        try actor.require(sellers, to: "change tenants")
        return try write { tx in
            let old = try tx.openAccount(meter: pan.description)
            try tx.db.execute(sql: "UPDATE accounts SET closed_at = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM offline_meters o WHERE o.pan = accounts.meter_pan AND o.station <> ?)",
                              arguments: [tx.now, old.id, tx.station.stationID])
            if tx.db.changesCount != 1 { try tx.refuseHeldMeter(accountID: old.id) }
            try tx.log(.accountClose, actor: actor.name) { w in
                w.field("account", Int(old.id))
                w.field("pan", pan.description)
                w.field("customer", old.customer)
                w.field("arrears", old.position.arrears.description)
                w.field("debt", old.position.debt.description)
                w.field("fixed_due", old.position.fixedChargesDue.description)
                w.field("carried_credit", old.position.carriedCredit.description)
            }
            let recovery = try Int64.fetchOne(tx.db, sql: "SELECT debt_recovery_bp FROM accounts WHERE id = ?", arguments: [old.id]) ?? 0
            return try tx.openAccount(meter: pan.description, customer: customer, arrears: arrears, debt: .zero,
                                      recovery: recovery, fixedMonthly: old.fixedMonthly, actor: actor)
        }
    }

    /// Account figures for a meter (what it owes, this month's use).
    public func account(meter pan: MeterPAN) throws -> (id: Int64, customer: String, position: AccountPosition) {
        try read { tx in
            let a = try tx.openAccount(meter: pan.description)
            return (a.id, a.customer, a.position)
        }
    }
}
