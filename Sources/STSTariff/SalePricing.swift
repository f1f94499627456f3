import STSTokenFormat

/// Prices one sale. Deductions come out in a fixed order:
///
/// 1. the channel fee (the payment must cover it);
/// 2. arrears, in full before any energy (restricted purchase);
/// 3. debt recovery: `debtRecoveryBasisPoints` of what is left, rounded down, at most the debt;
/// 4. fixed monthly charges due;
/// 5. what remains, plus credit carried from earlier sales, buys energy VAT inclusive: free basic
///    electricity first (no charge), then tenths of a kWh block by block from the month's
///    position, as many as the money covers. Each block's cost is rounded half up to the cent and
///    VAT is rounded half up on their sum. The units are then rounded *down* to an amount an STS
///    token can carry exactly, and the unspent money is carried to the next sale.
public struct SalePricing: Sendable {
    /// The tariff the sale is priced under.
    public let tariff: Tariff
    /// The sales channel (`counter`, `mobile`, …) whose fee comes off first.
    public let channel: String

    /// A pricer for one tariff and channel (the counter by default).
    public init(tariff: Tariff, channel: String = "counter") {
        self.tariff = tariff
        self.channel = channel
    }

    /// The sale a payment of `money` makes.
    public func price(money: Money, account: AccountPosition) throws(TariffError) -> SaleBreakdown {
        // Nothing paid sells only the free basic electricity still due this month.
        guard money.cents > 0 || (money.cents == 0 && freeUnitsDue(account: account) > 0) else {
            throw .nothingToSell("a sale needs money: \(money) buys nothing")
        }
        return try price(money: money, account: account, unitCap: nil)
    }

    /// The sale that buys `tenths` of a kWh (rounded up to an amount a token can carry), with
    /// the smallest payment that covers it and every deduction due.
    public func price(units tenths: Int64, account: AccountPosition) throws(TariffError) -> SaleBreakdown {
        let maximum = Int64(TransferAmount.maximumUnits)
        guard tenths > 0 else { throw .nothingToSell("\(tenths) tenths of a kWh is below the smallest amount a token carries (1 tenth, 0.1 kWh)") }
        guard tenths <= maximum else { throw .tooManyUnits(asked: tenths, maximum: maximum) }
        let encoded = Int64(try! TransferAmount(roundingUp: UInt64(tenths)).units)
        // The smallest payment whose energy reaches `encoded`: payments are monotone in units.
        // Payments below the channel fee are refused, so the search starts at the fee.
        let fee = tariff.fee(channel: channel).cents
        var low: Int64 = fee - 1, high: Int64 = max(fee, 1)
        while try price(money: Money(cents: high), account: account, unitCap: encoded).unitsEncoded < encoded {
            low = high
            high *= 2
            guard high < 1 << 50 else { throw .tooManyUnits(asked: tenths, maximum: maximum) }
        }
        while low + 1 < high {
            let mid = (low + high) / 2
            if try price(money: Money(cents: mid), account: account, unitCap: encoded).unitsEncoded >= encoded { high = mid } else { low = mid }
        }
        var sale = try price(money: Money(cents: high), account: account, unitCap: encoded)
        sale.unitsAsked = tenths
        return sale
    }

    /// Tenths of a kWh of free basic electricity the account may still have this month (its
    /// month's counters brought up to date).
    public func freeUnitsDue(account: AccountPosition) -> Int64 { max(0, tariff.freeBasicTenthsPerMonth - account.monthFreeTenths) }

    func price(money: Money, account: AccountPosition, unitCap: Int64?) throws(TariffError) -> SaleBreakdown {
        guard money.cents >= 0 else { throw .invalidAmount(what: "money amount", text: "\(money)", decimals: 2) }
        var left = money
        var deductions: [Deduction] = []
        func take(_ kind: DeductionKind, _ amount: Money) {
            guard amount.cents > 0 else { return }
            deductions.append(Deduction(kind: kind, amount: amount))
            left -= amount
        }
        // Collecting only the free basic electricity due (nothing paid) costs no channel fee.
        let fee = money.cents == 0 ? .zero : tariff.fee(channel: channel)
        guard money >= fee else { throw .insufficientMoney(paid: money, needed: fee) }
        take(.channelFee, fee)
        take(.arrears, min(account.arrears, left))
        let recovery = left.cents.multipliedReportingOverflow(by: account.debtRecoveryBasisPoints)
        take(.debtRecovery, min(account.debt, Money(cents: recovery.overflow ? left.cents : recovery.partialValue / 10_000)))
        take(.fixedCharges, min(account.fixedChargesDue, left))
        let budget = left + account.carriedCredit

        let maximum = Int64(TransferAmount.maximumUnits)
        let cap = min(unitCap ?? maximum, maximum)
        let free = min(max(0, tariff.freeBasicTenthsPerMonth - account.monthFreeTenths), cap)
        // Largest purchase whose VAT-inclusive price fits the budget.
        var low: Int64 = 0, high = cap - free
        if gross(high, from: account.monthPurchasedTenths) > budget {
            while low < high {
                let mid = (low + high + 1) / 2
                if gross(mid, from: account.monthPurchasedTenths) <= budget { low = mid } else { high = mid - 1 }
            }
        } else { low = high }
        // Free units are at most 10 000 kWh, always exactly representable, so the rounding takes
        // only bought units away.
        let total = Int64(TransferAmount(roundingDown: UInt64(free + low)).units)
        let bought = total - free
        var blocks = free > 0 ? [BlockUse(block: 0, price: EnergyPrice(perKWhTenThousandths: 0), tenths: free, cost: .zero)] : []
        blocks += blockUses(bought, from: account.monthPurchasedTenths)
        let net = blocks.reduce(Money.zero) { $0 + $1.cost }
        let vat = vat(on: net)
        var sale = SaleBreakdown(paid: money, carriedIn: account.carriedCredit, deductions: deductions, blocks: blocks,
                                 unitsAsked: nil, unitsEncoded: total, carriedOut: budget - net - vat)
        if vat.cents > 0 { sale.deductions.append(Deduction(kind: .vat, amount: vat)) }
        return sale
    }

    /// VAT on a net energy amount, rounded half up.
    func vat(on net: Money) -> Money { Money(cents: (net.cents * tariff.vatBasisPoints + 5_000) / 10_000) }

    /// Price with VAT of `tenths` bought after `position` tenths this month.
    func gross(_ tenths: Int64, from position: Int64) -> Money {
        let net = blockUses(tenths, from: position).reduce(Money.zero) { $0 + $1.cost }
        return net + vat(on: net)
    }

    /// How `tenths` bought after `position` spread over the blocks.
    func blockUses(_ tenths: Int64, from position: Int64) -> [BlockUse] {
        var uses: [BlockUse] = []
        var left = tenths, at = position
        for (i, b) in tariff.blocks.enumerated() where left > 0 {
            let room = b.upToTenths.map { max(0, $0 - at) } ?? left
            let n = min(room, left)
            guard n > 0 else { continue }
            // tenths × price(1/10 000 per kWh) is in 10⁻⁵ units; cents are 10⁻² units.
            let cost = (n * b.price.perKWhTenThousandths + 500) / 1_000
            uses.append(BlockUse(block: i + 1, price: b.price, tenths: n, cost: Money(cents: cost)))
            left -= n
            at += n
        }
        return uses
    }
}
