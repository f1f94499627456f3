/// One step of a block (inclining) tariff: the price of energy while the month's purchases
/// stay below `upToTenths` (tenths of a kWh; `nil` for the last, open-ended block).
public struct TariffBlock: Hashable, Sendable, Codable {
    /// The month's cumulative purchases, in tenths of a kWh, below which this block's price applies;
    /// nil for the last, open-ended block.
    public var upToTenths: Int64?
    /// The price per kWh in this block (VAT exclusive).
    public var price: EnergyPrice

    /// A block; the tariff checks that limits rise and that only the last block is open-ended.
    public init(upToTenths: Int64?, price: EnergyPrice) {
        self.upToTenths = upToTenths
        self.price = price
    }

    /// A block as people write it, in `tariff set --block` and the console's tariff form:
    /// `UPTO_KWH=PRICE` ("350=1.50"), `rest=PRICE` or just `PRICE` for the open-ended last block.
    public init(text: String) throws(TariffError) {
        let parts = text.split(separator: "=", maxSplits: 1).map { String($0.filter { $0 != " " }) }
        if parts.count == 1 {
            self.init(upToTenths: nil, price: try EnergyPrice(parts[0]))
        } else {
            let limit: Int64? = parts[0] == "rest" ? nil : try EnergyPrice(parts[0]).perKWhTenThousandths / 1_000
            self.init(upToTenths: limit, price: try EnergyPrice(parts[1]))
        }
    }
}

/// How a station prices electricity for the meters on it: block rates on the month's
/// cumulative purchases (a flat tariff is one open block), free basic electricity per month,
/// VAT (prices are VAT exclusive) and a fee per sales channel.
public struct Tariff: Hashable, Sendable, Codable {
    /// The highest price per kWh accepted (100 000.0000): with at most 18 201 624 tenths in a
    /// sale, every cost, VAT and sum stays far inside 64 bits.
    public static let maximumPrice = EnergyPrice(perKWhTenThousandths: 1_000_000_000)
    /// The highest block limit (10⁹ kWh a month) and channel fee (10¹¹ in money) accepted.
    public static let maximumBlockLimitTenths: Int64 = 10_000_000_000
    /// The highest channel fee accepted, in cents (10¹¹ in money).
    public static let maximumChannelFeeCents: Int64 = 10_000_000_000_000

    /// The tariff's name, by which meters refer to it (`stsvend meter add --tariff N`).
    public var name: String
    /// Ascending, non-overlapping; the last block is open-ended.
    public var blocks: [TariffBlock]
    /// Free basic electricity granted per calendar month, in tenths of a kWh.
    public var freeBasicTenthsPerMonth: Int64
    /// VAT on energy in basis points (1500 = 15 %).
    public var vatBasisPoints: Int64
    /// Fee per sale for each channel that charges one ("mobile", "agent"; the counter usually none).
    public var channelFees: [String: Int64]
    /// Time-of-use periods (peak, standard, off-peak by hour and weekday), when the tariff has
    /// them: the rates a currency meter on this tariff draws its credit down by, and the periods
    /// reports group sales into. A kWh meter's token is still priced by ``blocks``.
    public var timeOfUse: TimeOfUseTable?

    /// A validated tariff.
    public init(name: String, blocks: [TariffBlock], freeBasicTenthsPerMonth: Int64 = 0,
                vatBasisPoints: Int64 = 0, channelFees: [String: Money] = [:], timeOfUse: TimeOfUseTable? = nil) throws(TariffError) {
        guard !name.isEmpty else { throw .invalidTariff("a tariff needs a name") }
        guard !blocks.isEmpty else { throw .invalidTariff("a tariff needs at least one price") }
        var last: Int64 = 0
        for (i, b) in blocks.enumerated() {
            guard b.price.perKWhTenThousandths >= 0 else { throw .invalidTariff("prices cannot be negative") }
            guard b.price <= Self.maximumPrice else { throw .invalidTariff("a price per kWh is at most \(Self.maximumPrice)") }
            if i == blocks.count - 1 {
                guard b.upToTenths == nil else { throw .invalidTariff("the last block must be open-ended") }
            } else {
                guard let limit = b.upToTenths, limit > last, limit <= Self.maximumBlockLimitTenths else {
                    throw .invalidTariff("block limits must rise (block \(i + 1))")
                }
                last = limit
            }
        }
        guard (0...100_000).contains(freeBasicTenthsPerMonth) else {
            throw .invalidTariff("free basic electricity must be 0–10 000 kWh a month")
        }
        guard (0...10_000).contains(vatBasisPoints) else { throw .invalidTariff("VAT must be 0–100 %") }
        guard channelFees.values.allSatisfy({ (0...Self.maximumChannelFeeCents).contains($0.cents) }) else {
            throw .invalidTariff("channel fees are 0 to \(Money(cents: Self.maximumChannelFeeCents))")
        }
        self.name = name
        self.blocks = blocks
        self.freeBasicTenthsPerMonth = freeBasicTenthsPerMonth
        self.vatBasisPoints = vatBasisPoints
        self.channelFees = channelFees.mapValues(\.cents)
        self.timeOfUse = timeOfUse
    }

    private enum CodingKeys: String, CodingKey { case name, blocks, freeBasicTenthsPerMonth, vatBasisPoints, channelFees, timeOfUse }

    /// A stored tariff is checked like a new one: the database is not trusted to hold sane values.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let fees = try c.decode([String: Int64].self, forKey: .channelFees)
        try self.init(name: c.decode(String.self, forKey: .name), blocks: c.decode([TariffBlock].self, forKey: .blocks),
                      freeBasicTenthsPerMonth: c.decode(Int64.self, forKey: .freeBasicTenthsPerMonth),
                      vatBasisPoints: c.decode(Int64.self, forKey: .vatBasisPoints), channelFees: fees.mapValues { Money(cents: $0) },
                      timeOfUse: c.decodeIfPresent(TimeOfUseTable.self, forKey: .timeOfUse))
    }

    /// A one-price tariff.
    public static func flat(name: String, price: EnergyPrice, vatBasisPoints: Int64 = 0) throws(TariffError) -> Tariff {
        try Tariff(name: name, blocks: [TariffBlock(upToTenths: nil, price: price)], vatBasisPoints: vatBasisPoints)
    }

    /// The fee a sale through `channel` pays first.
    public func fee(channel: String) -> Money { Money(cents: channelFees[channel] ?? 0) }
}
