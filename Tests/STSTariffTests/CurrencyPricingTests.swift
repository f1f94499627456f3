import STSTariff
import STSTokenFormat
import Testing

/// Currency meters: money in, deductions as usual, the largest STS currency amount not above the rest.
@Suite struct CurrencyPricingTests {
    static let tariff = try! Tariff(name: "home", blocks: [TariffBlock(upToTenths: nil, price: EnergyPrice("1.50"))], freeBasicTenthsPerMonth: 500,
                                    vatBasisPoints: 1_500, channelFees: ["mobile": Money("1.00")])

    @Test("100.00 buys 99.99624: exponent 3, mantissa 8181; no blocks, free units or VAT")
    func hundred() throws {
        let sale = try SalePricing(tariff: Self.tariff).priceCurrency(money: Money("100.00"), account: AccountPosition())
        // offset(3) = 16 384 × 111 = 1 818 624; ⌊(10 000 000 − 1 818 624) / 1 000⌋ = 8 181 → 1 818 624 + 8 181 000.
        #expect(sale.currency?.units == 9_999_624)
        #expect(sale.currency?.cost == Money(cents: 10_000) && sale.carriedOut == .zero)
        #expect(sale.blocks.isEmpty && sale.unitsEncoded == 0 && sale.deducted(.vat) == .zero && sale.isBalanced)
    }

    @Test("200.00 via mobile with arrears: fee and arrears first, the rest at exponent 4, whole cents carried")
    func deductionsFirst() throws {
        var account = AccountPosition()
        account.arrears = try Money("9.00")
        let sale = try SalePricing(tariff: Self.tariff, channel: "mobile").priceCurrency(money: Money("210.00"), account: account)
        // 210.00 − 1.00 fee − 9.00 arrears = 200.00 = 20 000 000 units. offset(4) = 16 384 × 1 111 = 18 202 624;
        // ⌊(20 000 000 − 18 202 624) / 10 000⌋ = 179 → 18 202 624 + 1 790 000 = 19 992 624; cost ⌈19 992.624⌉ = 19 993 cents.
        #expect(sale.deducted(.channelFee) == Money(cents: 100) && sale.deducted(.arrears) == Money(cents: 900))
        #expect(sale.currency?.units == 19_992_624 && sale.currency?.cost == Money(cents: 19_993))
        #expect(sale.carriedOut == Money(cents: 7) && sale.isBalanced)
    }

    @Test("money that only covers the deductions buys nothing")
    func nothingLeft() throws {
        var account = AccountPosition()
        account.arrears = try Money("5.00")
        #expect(throws: TariffError.self) { try SalePricing(tariff: Self.tariff).priceCurrency(money: Money("5.00"), account: account) }
    }
}
