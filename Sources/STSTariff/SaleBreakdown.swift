/// A deduction taken from a payment before energy, in the order they are taken.
public enum DeductionKind: String, Hashable, Sendable, CaseIterable {
    case channelFee = "channel_fee"
    case arrears
    case debtRecovery = "debt_recovery"
    case fixedCharges = "fixed_charges"
    case vat
}

/// One line of a receipt's deductions.
public struct Deduction: Hashable, Sendable {
    public var kind: DeductionKind
    public var amount: Money

    public init(kind: DeductionKind, amount: Money) {
        self.kind = kind
        self.amount = amount
    }
}

/// The energy one tariff block (or free basic electricity) contributed to a sale.
public struct BlockUse: Hashable, Sendable {
    /// 1-based block number; 0 for free basic electricity.
    public var block: Int
    public var price: EnergyPrice
    public var tenths: Int64
    /// `tenths × price`, rounded half up to the cent (VAT exclusive).
    public var cost: Money
}

/// A priced sale: where every cent of the payment went and how much energy it buys.
///
/// It always balances: `paid + carriedIn = Σ deductions + energy + carriedOut`, where `energy`
/// is the sum of the block costs; ``isBalanced`` checks it (the auditor checks the same sum).
public struct SaleBreakdown: Hashable, Sendable {
    public var paid: Money
    public var carriedIn: Money
    /// In order: channel fee, arrears, debt recovery, fixed charges, VAT (zero lines left out).
    public var deductions: [Deduction]
    /// Free basic electricity first (block 0), then the blocks used, in order.
    public var blocks: [BlockUse]
    /// Units asked for (`--units` sales), tenths of a kWh.
    public var unitsAsked: Int64?
    /// Units the token carries: free plus bought, a representable STS amount.
    public var unitsEncoded: Int64
    /// Energy money (less than a tenth of a kWh's worth) kept for the next sale.
    public var carriedOut: Money

    public var freeTenths: Int64 { blocks.filter { $0.block == 0 }.reduce(0) { $0 + $1.tenths } }
    public var purchasedTenths: Int64 { unitsEncoded - freeTenths }
    public var energy: Money { blocks.reduce(.zero) { $0 + $1.cost } }
    public func deducted(_ kind: DeductionKind) -> Money {
        deductions.filter { $0.kind == kind }.reduce(.zero) { $0 + $1.amount }
    }

    public var isBalanced: Bool {
        paid + carriedIn == deductions.reduce(.zero) { $0 + $1.amount } + energy + carriedOut
    }

    /// The account after this sale.
    public func applied(to account: AccountPosition) -> AccountPosition {
        var a = account
        a.arrears -= deducted(.arrears)
        a.debt -= deducted(.debtRecovery)
        a.fixedChargesDue -= deducted(.fixedCharges)
        a.monthPurchasedTenths += purchasedTenths
        a.monthFreeTenths += freeTenths
        a.carriedCredit = carriedOut
        return a
    }
}
