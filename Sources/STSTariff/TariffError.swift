/// Why a tariff, an amount or a sale could not be priced.
public enum TariffError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidAmount(what: String, text: String, decimals: Int)
    case invalidTariff(String)
    /// The money does not cover the channel fee.
    case insufficientMoney(paid: Money, needed: Money)
    /// The request asks for more energy than one token can carry.
    case tooManyUnits(asked: Int64, maximum: Int64)
    /// The request asks for less energy than the smallest token amount (0.1 kWh), or pays nothing.
    case nothingToSell(String)

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
