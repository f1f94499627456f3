import STSMeter
import STSTariff
import STSTokenFormat

/// How a currency meter turns energy into money.
extension SimulatedMeter {
    /// Charges `wattSeconds` drawn at `price` (10⁻⁵ units per kWh) to the electricity-currency
    /// register.
    ///
    /// Rounding: the owed amount is kept exactly as watt-seconds × price, in 1/3 600 000 of a
    /// 10⁻⁵ unit. Each minute adds its product to ``currencyPending``, the whole 10⁻⁵ units in
    /// it (⌊pending / 3 600 000⌋) are charged and the remainder stays pending. So money is
    /// rounded down once, never twice, and nothing is lost: after any run the total charged
    /// is ⌊Σ W·s × price / 3 600 000⌋ of everything drawn since the meter was made, less what
    /// went unbilled when credit ran out. Credit never goes below zero: a minute costing more
    /// than is left takes what is left (the rest is not billed) and the relay then opens.
    mutating func chargeCurrency(wattSeconds: Int64, price: Int64, period: String, into report: inout ConsumptionReport) {
        // Both factors are bounded (load ≤ 10¹² W × 60 s, price < 10¹¹), so the product and
        // the sum stay below 10²⁶, far inside 128 bits.
        let owed = Int128(currencyPending) + Int128(wattSeconds) * Int128(price)
        let units = owed / Int128(Self.currencyPendingLimit)
        currencyPending = Int64(owed % Int128(Self.currencyPendingLimit))
        let taken = min(units, max(0, currencyCredit))
        guard taken > 0 else { return }
        decoder.state.registers[.electricityCurrency] -= taken
        report.currencyCharged += taken
        report.chargedByPeriod[period, default: 0] += taken
    }

    /// One warning for the lowest money threshold reached; the ones above it count as warned too.
    mutating func warnCurrency(at time: Int64) {
        let credit = currencyCredit
        if let lowest = Self.newlyReached(credit, thresholds: warningCurrency, warned: &warnedCurrency) {
            log(time, "warning", "low credit: \(DecimalQuantity.format(credit, scale: 5)) left (threshold \(DecimalQuantity.format(lowest, scale: 5)))")
        }
    }
}
