import STSTariff
import STSTokenFormat

extension Station {
    /// What a sale would come to, priced exactly as ``sell(_:by:)`` prices it (deductions, VAT,
    /// blocks, units, what carries over), without issuing a token or recording anything: the
    /// console's preview before the operator confirms. A quote is not a promise: a sale in
    /// between, a new month or a tariff change moves the figures.
    public func quote(_ request: SaleRequest, by actor: Actor) throws -> SaleBreakdown {
        try actor.require(sellers, to: "sell")
        return try read { tx in
            let pan = request.meter.description
            let meter = try tx.meter(pan)
            if let reason = meter.blockedReason { throw StationError.refused(.meterBlocked(meter: pan, reason: reason)) }
            let account = try tx.openAccount(meter: pan)
            let (tariff, _) = try cachedTariff(meter.tariff, tx)
            let pricing = SalePricing(tariff: tariff, channel: request.channel)
            do {
                switch (request.amount, meter.credit) {
                case let (.money(m), .energy): return try pricing.price(money: m, account: account.position)
                case let (.units(u), .energy): return try pricing.price(units: u, account: account.position)
                case let (.money(m), .currency): return try pricing.priceCurrency(money: m, account: account.position)
                case (.units, .currency):
                    throw StationError.refused(.currencyMeter("meter \(pan) holds money, not kWh: sell it an amount of money"))
                }
            } catch let e as TariffError { throw StationError.pricing(e) }
        }
    }
}
