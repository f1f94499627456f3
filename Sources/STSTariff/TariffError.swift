/// Why a tariff, an amount or a sale could not be priced.
public enum TariffError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A money, price or energy text was not plain digits with at most `decimals` decimals.
    case invalidAmount(what: String, text: String, decimals: Int)
    /// The tariff breaks a rule (the text says which): no name, no price, limits that do not rise,
    /// VAT or fees out of range.
    case invalidTariff(String)
    /// The money does not cover the channel fee.
    case insufficientMoney(paid: Money, needed: Money)
    /// The request asks for more energy than one token can carry.
    case tooManyUnits(asked: Int64, maximum: Int64)
    /// The request asks for less energy than the smallest token amount (0.1 kWh), or pays nothing.
    case nothingToSell(String)

    /// A stable identifier for scripts and the server.
    public var code: String {
        switch self {
        case .invalidAmount: "invalid-amount"
        case .invalidTariff: "invalid-tariff"
        case .insufficientMoney: "insufficient-money"
        case .tooManyUnits: "too-many-units"
        case .nothingToSell: "nothing-to-sell"
        }
    }

    /// The message for people.
    public var description: String {
        switch self {
        case let .invalidAmount(what, text, decimals):
            "invalid \(what) \"\(text)\": expected digits with at most \(decimals) decimals"
        case let .invalidTariff(why): "invalid tariff: \(why)"
        case let .insufficientMoney(paid, needed): "\(paid) does not cover the \(needed) that must be paid before any energy"
        case let .tooManyUnits(asked, maximum): "\(asked) tenths of a kWh is more than one token carries (\(maximum))"
        case let .nothingToSell(why): why
        }
    }
}
