import STSTokenFormat

/// A token made by the vending side: the 20 digits and what they say.
public struct IssuedToken: Hashable, Sendable {
    /// The number to print or key in.
    public let number: TokenNumber
    /// The typed fields.
    public let content: TokenContent
    /// The plain data block (before encryption), for audit and debugging.
    public let dataBlock: DataBlock

    /// Bundles a token number with the content and plain block it was made from.
    @inlinable public init(number: TokenNumber, content: TokenContent, dataBlock: DataBlock) {
        self.number = number
        self.content = content
        self.dataBlock = dataBlock
    }

    /// For unit credit and the power limits: the amount actually encoded (after rounding up),
    /// in transfer units or watts, for the receipt.
    public var encodedUnits: UInt64? {
        switch content {
        case let .transferCredit(c): return c.amount.units
        case let .management(m): return m.watts
        default: return nil
        }
    }

    /// For currency credit: the amount actually encoded, in 10⁻⁵ units.
    public var encodedCurrencyUnits: Int128? {
        if case let .currencyCredit(c) = content { return c.amount.units }
        return nil
    }
}
