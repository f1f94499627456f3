/// A deduction taken from a payment before energy, in the order they are taken.
public enum DeductionKind: String, Hashable, Sendable, CaseIterable {
    /// The sales channel's fee, taken first (`channel_fee` on receipts).
    case channelFee = "channel_fee"
    /// Arrears: old debt, paid in full before any energy.
    case arrears
    /// Debt recovery: a percentage of what is left, towards the account's debt (`debt_recovery`).
    case debtRecovery = "debt_recovery"
    /// Fixed monthly charges due (`fixed_charges`).
    case fixedCharges = "fixed_charges"
    /// VAT on the energy bought.
    case vat
}

/// One line of a receipt's deductions.
public struct Deduction: Hashable, Sendable {
    /// Which deduction this line is.
    public var kind: DeductionKind
    /// The amount taken.
    public var amount: Money

    /// A receipt line of one kind and amount.
    public init(kind: DeductionKind, amount: Money) {
        self.kind = kind
        self.amount = amount
    }
}

/// The energy one tariff block (or free basic electricity) contributed to a sale.
public struct BlockUse: Hashable, Sendable {
    /// 1-based block number; 0 for free basic electricity.
    public var block: Int
    /// The block's price per kWh (VAT exclusive; zero for free basic electricity).
    public var price: EnergyPrice
    /// The energy taken from this block, in tenths of a kWh.
    public var tenths: Int64
    /// `tenths × price`, rounded half up to the cent (VAT exclusive).
    public var cost: Money

    /// A block's share of a sale, as priced (or as read back from a record).
    public init(block: Int, price: EnergyPrice, tenths: Int64, cost: Money) {
        self.block = block
        self.price = price
        self.tenths = tenths
        self.cost = cost
    }
}

/// A priced sale: where every cent of the payment went and how much energy it buys.
///
/// It always balances: `paid + carriedIn = Σ deductions + energy + carriedOut`, where `energy`
/// is the sum of the block costs; ``isBalanced`` checks it (the auditor checks the same sum).
public struct SaleBreakdown: Hashable, Sendable {
    /// The money the customer paid.
    public var paid: Money
    /// Energy money carried in from earlier sales (the account's carried credit).
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
    /// For a currency meter: the money credit the token carries instead of energy (nil for kWh meters).
    public var currency: CurrencyCredit? = nil

    /// A breakdown as priced (or as read back from a record); ``isBalanced`` tells whether it adds up.
    public init(paid: Money, carriedIn: Money, deductions: [Deduction], blocks: [BlockUse], unitsAsked: Int64?, unitsEncoded: Int64,
                carriedOut: Money, currency: CurrencyCredit? = nil) {
        self.paid = paid
        self.carriedIn = carriedIn
        self.deductions = deductions
        self.blocks = blocks
        self.unitsAsked = unitsAsked
        self.unitsEncoded = unitsEncoded
        self.carriedOut = carriedOut
        self.currency = currency
    }

    /// A currency meter's credit: the money spent on it and the amount its token carries.
    public struct CurrencyCredit: Hashable, Sendable {
        /// Whole cents of the payment that became currency credit.
        public var cost: Money
        /// The amount the token encodes, in 10⁻⁵ currency units: the largest STS currency amount
        /// not above `cost` (never more credit than was paid for).
        public var units: Int128

        /// A currency credit as priced.
        public init(cost: Money, units: Int128) {
            self.cost = cost
            self.units = units
        }
    }

    /// The free basic electricity in this sale (block 0), in tenths of a kWh.
    public var freeTenths: Int64 { blocks.filter { $0.block == 0 }.reduce(0) { $0 + $1.tenths } }
    /// The paid-for energy in the token: the units encoded less the free units.
    public var purchasedTenths: Int64 { unitsEncoded - freeTenths }
    /// The cost of the energy: the sum of the block costs (VAT exclusive), or a currency meter's credit.
    public var energy: Money { blocks.reduce(currency?.cost ?? .zero) { $0 + $1.cost } }
    /// The total deducted for one kind; zero when the sale has no such line.
    public func deducted(_ kind: DeductionKind) -> Money {
        deductions.filter { $0.kind == kind }.reduce(.zero) { $0 + $1.amount }
    }

    /// Whether `paid + carriedIn` equals the deductions plus ``energy`` plus ``carriedOut``: the sum
    /// the auditor checks for every sale.
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
