import STSTokenFormat

extension SalePricing {
    /// The sale a payment of `money` makes for a **currency meter** (STS electricity-currency
    /// credit, which the meter draws down by its own time-of-use rates). The channel fee, arrears,
    /// debt recovery and fixed charges come off first, as for kWh meters; what is left plus the
    /// carried credit becomes currency credit, with no blocks, free basic electricity or VAT (the
    /// meter's rates carry them). The token carries the largest STS currency amount not above
    /// that money; whole cents of the difference are carried to the next sale (a remainder below
    /// one cent is not, so no sale gives more credit than was paid for).
    public func priceCurrency(money: Money, account: AccountPosition) throws(TariffError) -> SaleBreakdown {
        guard money.cents > 0 else { throw .nothingToSell("a sale needs money: \(money) buys nothing") }
        var sale = try price(money: money, account: account, unitCap: 0)
        // No energy and no VAT: the budget is what the kWh pricing left to carry.
        sale.deductions.removeAll { $0.kind == .vat }
        sale.blocks = []
        sale.unitsEncoded = 0
        let budget = sale.carriedOut
        let units = Self.largestCurrencyAmount(notAbove: Int128(budget.cents) * 1_000)
        guard units > 0 else { throw .nothingToSell("\(budget) left after the deductions buys no currency credit") }
        let spentCents = Int64((units + 999) / 1_000)
        let cost = Money(cents: min(spentCents, budget.cents))
        sale.currency = SaleBreakdown.CurrencyCredit(cost: cost, units: units)
        sale.carriedOut = budget - cost
        return sale
    }

    /// The largest amount an STS currency token encodes exactly that is at most `limit` 10⁻⁵
    /// units: the values are `m·10^e + Σ_{n<e} 2^14·10^n` for a 14-bit `m` and `e` 0…31.
    static func largestCurrencyAmount(notAbove limit: Int128) -> Int128 {
        guard limit > 0 else { return 0 }
        var best: Int128 = 0
        for e in 0...31 {
            let offset = Int128(CurrencyAmount.offset(e)), step = Int128(CurrencyAmount.pow10(e))
            guard offset <= limit else { break }
            let m = min(16_383, (limit - offset) / step)
            best = max(best, offset + m * step)
        }
        return best
    }
}
