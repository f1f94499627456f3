import Foundation
import STSAuditLog
import STSBatch
import STSTariff
import STSTokenFormat
import STSVending

extension Station {
    /// Sells credit (operators and supervisors). The sale, its token and its log entry are
    /// committed durably in one transaction before this returns, so a receipt is never shown for
    /// a sale that could be lost. A request id seen before returns the original receipt
    /// (`replayed`), never a second token; the same id for a different request is refused.
    public func sell(_ request: SaleRequest, by actor: Actor) throws -> SaleReceipt {
        try actor.require(sellers, to: "sell")
        return try write { tx in try sell(request, by: actor, tx) }
    }

    /// A sale inside `tx`; `card` names the card and purchase number a card meter's sale is written as.
    func sell(_ request: SaleRequest, by actor: Actor, _ tx: StoreTransaction, card: (serial: String, sequence: UInt32)? = nil) throws -> SaleReceipt {
        if let earlier = try tx.sale(requestID: request.requestID) {
            guard earlier.request == request.fingerprint else { throw StationError.requestIDReused(request.requestID) }
            var r = earlier.receipt
            r.replayed = true
            return r
        }
        let pan = request.meter.description
        let meter = try tx.meter(pan)
        if let reason = meter.blockedReason { throw StationError.refused(.meterBlocked(meter: pan, reason: reason)) }
        // A card meter's credit reaches it only on its card; a keypad meter has none.
        if meter.kind == .card, card == nil, request.delivery != .keypad { throw StationError.refused(.cardMeterNeedsCard(meter: pan)) }
        if meter.kind != .card, card != nil { throw StationError.refused(.notACardMeter(meter: pan)) }
        var account = try tx.openAccount(meter: pan)
        let (tariff, version) = try cachedTariff(meter.tariff, tx)
        let pricing = SalePricing(tariff: tariff, channel: request.channel)
        let sale: SaleBreakdown
        do {
            switch (request.amount, meter.credit) {
            case let (.money(m), .energy): sale = try pricing.price(money: m, account: account.position)
            case let (.units(u), .energy): sale = try pricing.price(units: u, account: account.position)
            case let (.money(m), .currency): sale = try pricing.priceCurrency(money: m, account: account.position)
            case (.units, .currency):
                throw StationError.refused(.currencyMeter("meter \(pan) holds money, not kWh: sell it an amount of money (--money)"))
            }
        } catch let e as TariffError { throw StationError.pricing(e) }

        let key = try vendingKey(meter.keyName, tx)
        var warnings: [String] = []
        if let days = KeyExpiry.daysLeft(key.attributes, now: tx.now), days <= 30 {
            warnings.append("vending key \(meter.keyName) expires in \(max(days, 0)) days (\(KeyExpiry.lastMinute(key.attributes))): plan a key change")
        }
        var tokens: [IssuedToken] = []
        var tid: TokenIdentifier?
        if let currency = sale.currency {
            let issuer = try TokenIssuer(meter: meter.profile, vendingKey: key.key)
            let t = try tx.allocateTID(meter)
            do {
                tokens.append(try issuer.currencyCredit(.electricityCurrency, units: currency.units, tid: t))
            } catch VendingError.keyExpired { throw StationError.keyExpired(name: meter.keyName) }
            guard tokens[0].encodedCurrencyUnits == currency.units else {
                throw StationError.vending("internal: the token carries \(tokens[0].encodedCurrencyUnits ?? 0) currency units, priced \(currency.units)")
            }
            tid = t
        } else if sale.unitsEncoded > 0 {
            let issuer = try TokenIssuer(meter: meter.profile, vendingKey: key.key)
            // Free basic electricity as its own token first (where the channel asks for it and
            // units were also bought), then the bought units: each with its own TID, in order.
            // (Only when both parts are amounts a token carries exactly: above 1 638.3 kWh a token
            // carries whole kWh, so a fractional split stays one token.)
            let exact = { (t: Int64) in Int64(TransferAmount(roundingDown: UInt64(t)).units) == t }
            let parts: [Int64] = request.separateFreeToken && sale.freeTenths > 0 && sale.purchasedTenths > 0
                && exact(sale.freeTenths) && exact(sale.purchasedTenths) ? [sale.freeTenths, sale.purchasedTenths] : [sale.unitsEncoded]
            var held = meter
            for units in parts {
                // Each token its own TID: the next one is allocated after the one just given.
                let t = try tx.allocateTID(held)
                held.lastTID = UInt32(t.value)
                held.lastTIDBaseDate = held.profile.baseDate.year
                let token: IssuedToken
                do {
                    token = try issuer.credit(.electricity, units: UInt64(units), tid: t, rnd: randomNibble())
                } catch VendingError.keyExpired { throw StationError.keyExpired(name: meter.keyName) }
                guard token.encodedUnits == UInt64(units) else {
                    throw StationError.vending("internal: the token carries \(token.encodedUnits ?? 0) tenths, priced \(units)")
                }
                tokens.append(token)
                // The sale's TID is its first token's, as the signed receipt lists them.
                if tid == nil { tid = t }
            }
        }
        account.position = sale.applied(to: account.position)
        try tx.save(account)

        let saleID = try tx.nextSaleID()
        let entry = SaleEntry(sale: saleID, requestID: request.requestID, time: tx.now, meter: meter.profile, vendingKey: meter.keyName,
                              account: account.id, customer: account.customer, operator: actor.name, channel: request.channel,
                              tariff: tariff.name, tariffVersion: version, breakdown: sale, tokens: tokens,
                              card: card.map { SaleEntry.Card(serial: $0.serial, sequence: $0.sequence) }, warnings: warnings)
        let receipt = SaleReceipt(json: entry.bytes, saleID: saleID, tokens: tokens.map { $0.number.description },
                                  tid: tid.map { Int64($0.value) }, unitsTenths: sale.unitsEncoded)
        var result = receipt
        result.breakdown = sale
        result.queuedForDelivery = try tx.insertSale(id: saleID, request: request, kind: "credit", meter: pan, account: account.id, actor: actor,
                                                     sale: sale, receipt: receipt, logType: .sale)
        return result
    }

    /// The latest version of a tariff, decoded once per process.
    func cachedTariff(_ name: String, _ tx: StoreTransaction) throws -> (Tariff, Int) {
        let version = try Int.fetchOne(tx.db.cachedStatement(sql: "SELECT MAX(version) FROM tariffs WHERE name = ?"), arguments: [name])
        if let version, let t = cached({ tariffCache[name] }), t.1 == version { return t }
        let t = try tariff(name, tx)
        cached { tariffCache[name] = t }
        return t
    }
}

func randomNibble() -> UInt8 {
    var g = SystemRandomNumberGenerator()
    return UInt8.random(in: 0...15, using: &g)
}

/// Tokens as receipt objects (the log's token objects).
func writeTokens(_ tokens: [IssuedToken], to w: inout JSONLineWriter) { SaleEntry.write(tokens: tokens, to: &w) }

extension StoreTransaction {
    func nextSaleID() throws -> Int64 {
        // An offline lane numbers its sales from the block the central store reserved for it.
        if station.offlineLane == .local { return try nextOfflineSaleID() }
        // Many stations sell at once on PostgreSQL: ids come from one sequence (gaps where a sale rolled back).
        if db.dialect == .postgres {
            guard let id = try Int64.fetchOne(db, sql: "SELECT nextval('sales_id_seq')"), id > 0 else { throw StationError.store("no sale number was given") }
            return id
        }
        let last = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(id) FROM sales")) ?? 0
        guard last >= 0, last < Int64.max else { throw StationError.tampered("the last sale number \(last) is impossible") }
        return last + 1
    }

    func sale(requestID: String) throws -> (request: String, receipt: SaleReceipt)? {
        guard let r = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, request, receipt, tokens, tid, units, log_seq, station FROM sales WHERE request_id = ?"),
                                       arguments: [requestID]) else { return nil }
        return (r["request"], try provenReceipt(r))
    }

    func sale(id: Int64) throws -> (row: Row, receipt: SaleReceipt) {
        guard let r = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM sales WHERE id = ?"), arguments: [id]) else {
            throw StationError.notFound("sale \(id)")
        }
        return (r, try provenReceipt(r))
    }

    func receipt(_ r: Row) -> SaleReceipt {
        let tokens: String = r["tokens"]
        return SaleReceipt(json: Array(r["receipt"] as Data), saleID: r["id"], tokens: tokens.split(separator: " ").map(String.init),
                           tid: r["tid"], unitsTenths: r["units"])
    }

    /// Records a sale (or engineering or key-change record) and its log entry, whose `data` is
    /// the receipt itself; the row keeps the entry's seq, so a reprint can prove the receipt
    /// against the signed log.
    func insertSale(id: Int64, request: SaleRequest?, kind: String, meter: String, account: Int64?, actor: Actor,
                    sale: SaleBreakdown?, receipt: SaleReceipt, requestID: String? = nil, fingerprint: String? = nil,
                    logType: AuditEntryType) throws -> Bool {
        let s = sale
        // The row first, then its entry (whose seq is the next one): nothing fails after the
        // entry is appended, so the transaction's cached log head never names a rolled-back entry.
        let (head, _) = try currentHead()
        guard head < Int64.max else { throw StationError.tampered("the log's last entry number \(head) is impossible") }
        let seq = head + 1
        try db.cachedStatement(sql: """
            INSERT INTO sales (id, request_id, request, kind, meter_pan, account_id, operator, channel, created_at,
                money, fee, arrears, debt, fixed, vat, energy, units, free_units, carried_in, carried_out, tokens, tid, receipt, log_seq, station)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                id, request?.requestID ?? requestID ?? "\(kind):\(id)", request?.fingerprint ?? fingerprint ?? kind, kind, meter, account,
                actor.name, request?.channel ?? "station", now,
                s?.paid.cents ?? 0, s?.deducted(.channelFee).cents ?? 0, s?.deducted(.arrears).cents ?? 0,
                s?.deducted(.debtRecovery).cents ?? 0, s?.deducted(.fixedCharges).cents ?? 0, s?.deducted(.vat).cents ?? 0,
                s?.energy.cents ?? 0, receipt.unitsTenths, s?.freeTenths ?? 0, s?.carriedIn.cents ?? 0, s?.carriedOut.cents ?? 0,
                receipt.tokens.joined(separator: " "), receipt.tid, Data(receipt.json), seq, station.stationID])
        let logged = try log(logType, actor: actor.name, data: receipt.json)
        guard logged == seq else { throw StationError.store("the log moved while a sale was recorded") }
        // A connected meter gets its tokens through the head-end: the delivery is part of the sale.
        var queued = false
        if !receipt.tokens.isEmpty {
            try db.cachedStatement(sql: """
                INSERT INTO deliveries (sale_id, pan, tokens, state, next_attempt_at, updated_at)
                SELECT ?, pan, ?, 'pending', ?, ? FROM meter_links WHERE pan = ?
                """).execute(arguments: [id, receipt.tokens.joined(separator: " "), now, now, meter])
            queued = db.changesCount > 0
        }
        for b in s?.blocks ?? [] {
            try db.cachedStatement(sql: "INSERT INTO sale_blocks (sale_id, block, price, tenths, cost) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [id, b.block, b.price.perKWhTenThousandths, b.tenths, b.cost.cents])
        }
        return queued
    }
}
