import STSTariff

extension SaleRequest.Amount {
    /// Reads what the customer asks for from text: exactly one of `money` ("100.00": digits,
    /// at most 2 decimals, more than 0) and `units` (kWh, one decimal, at least 0.1). `names`
    /// are what the front calls the two inputs in its messages ("--money", "money").
    public static func parse(money: String?, units: String?, names: (money: String, units: String) = ("money", "units")) throws(StationError) -> Self {
        switch (money, units) {
        case let (m?, nil):
            guard let amount = try? Money(m) else {
                throw .invalid(.amount, "\(names.money) must be an amount like 100.00 (digits, at most 2 decimals, no sign or comma), not '\(m.prefix(40))'")
            }
            guard amount.cents > 0 else { throw .invalid(.amount, "\(names.money) must be more than 0.00: a sale of nothing is not recorded") }
            return .money(amount)
        case let (nil, u?):
            // Read finer than a tenth, so a too-small amount is named as such.
            guard let tenThousandths = try? EnergyPrice(u).perKWhTenThousandths else {
                throw .invalid(.amount, "\(names.units) must be kWh like 25.5 (digits, one decimal), not '\(u.prefix(40))'")
            }
            guard tenThousandths >= 1_000 else { throw .invalid(.amount, "\(names.units) \(u) kWh is below the smallest amount a token carries (0.1 kWh)") }
            guard tenThousandths % 1_000 == 0 else { throw .invalid(.amount, "\(names.units) takes tenths of a kWh (one decimal, e.g. 25.5), not '\(u.prefix(40))'") }
            return .units(tenThousandths / 1_000)
        default:
            throw .invalid(.amount, "give exactly one of \(names.money) and \(names.units)")
        }
    }
}
