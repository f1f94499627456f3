/// What an account owes and has used this month, as the pricing of one sale needs it.
/// The station keeps these figures; pricing only reads them and says how they change.
public struct AccountPosition: Hashable, Sendable {
    /// Old debt that must be paid in full before any energy (restricted purchase).
    public var arrears: Money
    /// Debt recovered a percentage at a time.
    public var debt: Money
    /// Share of each payment (after fee and arrears) that goes to `debt`, in basis points.
    public var debtRecoveryBasisPoints: Int64
    /// Fixed monthly charges not yet paid.
    public var fixedChargesDue: Money
    /// Energy bought this calendar month (tenths of a kWh; free units not counted): where the
    /// next unit falls in the tariff blocks.
    public var monthPurchasedTenths: Int64
    /// Free basic electricity already given this month.
    public var monthFreeTenths: Int64
    /// Energy money left over from earlier sales (less than one tenth of a kWh's price).
    public var carriedCredit: Money

    /// A position; every figure not given is zero.
    public init(arrears: Money = .zero, debt: Money = .zero, debtRecoveryBasisPoints: Int64 = 0,
                fixedChargesDue: Money = .zero, monthPurchasedTenths: Int64 = 0, monthFreeTenths: Int64 = 0,
                carriedCredit: Money = .zero) {
        self.arrears = arrears
        self.debt = debt
        self.debtRecoveryBasisPoints = debtRecoveryBasisPoints
        self.fixedChargesDue = fixedChargesDue
        self.monthPurchasedTenths = monthPurchasedTenths
        self.monthFreeTenths = monthFreeTenths
        self.carriedCredit = carriedCredit
    }
}
