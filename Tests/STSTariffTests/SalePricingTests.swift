import STSTariff
import STSTokenFormat
import Testing

/// Prices worked out by hand (each expectation's arithmetic is in its comment).
@Suite struct SalePricingTests {
    let home = try! Tariff(name: "home", blocks: [TariffBlock(upToTenths: 500, price: EnergyPrice("1.20")),
                                                  TariffBlock(upToTenths: nil, price: EnergyPrice("1.80"))],
                           freeBasicTenthsPerMonth: 100, vatBasisPoints: 1500, channelFees: ["mobile": Money("1.50")])

    @Test func moneyAndPricesParseExactly() throws {
        #expect(try Money("100").cents == 10_000)
        #expect(try Money("0.5").cents == 50)
        #expect(try Money("12.34").description == "12.34")
        #expect(try EnergyPrice("1.8532").perKWhTenThousandths == 18_532)
        for bad in ["", "1.234", "-1", "1e3", "1.", ".5", "12,00", "１２"] {
            #expect(throws: TariffError.self) { try Money(bad) }
        }
    }

    @Test func arrearsFreeUnitsBlocksAndVAT() throws {
        // 100.00 − 20.00 arrears = 80.00 for energy, VAT inclusive.
        // Free 10.0 kWh; block 1: 50.0 kWh × 1.20 = 60.00; block 2: 5.3 kWh × 1.80 = 9.54;
        // net 69.54, VAT 15 % = 10.431 → 10.43; 60.00 + 9.54 + 10.43 = 79.97, 0.03 carried.
        // 5.4 kWh in block 2 would cost 9.72 + VAT 10.458 → 10.46: 80.18 > 80.00.
        let sale = try SalePricing(tariff: home).price(money: Money("100.00"), account: AccountPosition(arrears: Money("20.00")))
        #expect(sale.deductions == [Deduction(kind: .arrears, amount: try Money("20.00")), Deduction(kind: .vat, amount: try Money("10.43"))])
        #expect(sale.blocks.map(\.tenths) == [100, 500, 53])
        #expect(sale.blocks.map(\.cost) == [Money.zero, try Money("60.00"), try Money("9.54")])
        #expect(sale.unitsEncoded == 653)
        #expect(sale.carriedOut == (try Money("0.03")))
        #expect(sale.isBalanced)
        let after = sale.applied(to: AccountPosition(arrears: try Money("20.00")))
        #expect(after.arrears == .zero && after.monthPurchasedTenths == 553 && after.monthFreeTenths == 100)
    }

    @Test func restrictedPurchasePaysArrearsFirst() throws {
        // 15.00 against 40.00 arrears: all of it goes to arrears; only the free units remain.
        let sale = try SalePricing(tariff: home).price(money: Money("15.00"), account: AccountPosition(arrears: Money("40.00")))
        #expect(sale.deducted(.arrears) == (try Money("15.00")))
        #expect(sale.unitsEncoded == 100 && sale.purchasedTenths == 0)
        #expect(sale.isBalanced)
    }

    @Test func feeDebtRecoveryAndFixedChargesInOrder() throws {
        // 50.00 via mobile: fee 1.50 → 48.50; debt recovery 10 % of 48.50 = 4.85 → 43.65;
        // fixed 5.00 → 38.65. Month already past block 1 and the free units:
        // 1.80 × 1.15 = 2.07 per kWh, 0.207 per tenth: 186 tenths → net 33.48, VAT 5.022 → 5.02,
        // 38.50; 187 tenths → 33.66 + 5.05 = 38.71 > 38.65. Carried 0.15.
        let account = try AccountPosition(debt: Money("100.00"), debtRecoveryBasisPoints: 1000, fixedChargesDue: Money("5.00"),
                                      monthPurchasedTenths: 600, monthFreeTenths: 100)
        let sale = try SalePricing(tariff: home, channel: "mobile").price(money: Money("50.00"), account: account)
        #expect(sale.deductions.map(\.kind) == [.channelFee, .debtRecovery, .fixedCharges, .vat])
        #expect(sale.deductions.map(\.amount) == [try Money("1.50"), try Money("4.85"), try Money("5.00"), try Money("5.02")])
        #expect(sale.unitsEncoded == 186)
        #expect(sale.carriedOut == (try Money("0.15")))
        #expect(sale.isBalanced)
        let paid = try Money("1.00"), fee = try Money("1.50")
        #expect(throws: TariffError.insufficientMoney(paid: paid, needed: fee)) {
            try SalePricing(tariff: home, channel: "mobile").price(money: Money("1.00"), account: account)
        }
    }

    @Test func unitsAreRoundedDownToWhatATokenCarries() throws {
        // Above 1638.3 kWh a token carries steps of 1 kWh (exponent 1). At
        // 1.00 per kWh: 2000.55 buys 20005 tenths (2000.50),
        // and the largest amount at or below 20005 a token carries is 16384 + 362 × 10 = 20004.
        let flat = try Tariff.flat(name: "flat", price: EnergyPrice("1.00"))
        let sale = try SalePricing(tariff: flat).price(money: Money("2000.55"), account: AccountPosition())
        #expect(sale.unitsEncoded == 20_004)
        #expect(UInt64(sale.unitsEncoded) == TransferAmount(roundingDown: 20_005).units)
        #expect(sale.carriedOut == (try Money("0.15")))
        #expect(sale.isBalanced)
        #expect(TransferAmount(roundingDown: 16_383).units == 16_383)
        #expect(TransferAmount(roundingDown: 16_393).units == 16_384 + 0)
        #expect(TransferAmount(roundingDown: 180_223).units == 180_214)
        #expect(TransferAmount(roundingDown: 99_999_999).units == TransferAmount.maximumUnits)
    }

    @Test func unitsSaleChargesTheSmallestSufficientPayment() throws {
        // 12.5 kWh in block 2 (month past block 1, free used): 22.50 + VAT 3.375 → 3.38 = 25.88;
        // 0.03 carried in → pay 25.85.
        let account = try AccountPosition(monthPurchasedTenths: 553, monthFreeTenths: 100, carriedCredit: Money("0.03"))
        let sale = try SalePricing(tariff: home).price(units: 125, account: account)
        #expect(sale.paid == (try Money("25.85")))
        #expect(sale.unitsEncoded == 125 && sale.unitsAsked == 125)
        #expect(sale.carriedOut == .zero)
        #expect(sale.isBalanced)
    }

    @Test func unitsSaleThroughAChannelWithAFee() throws {
        // 10.0 kWh via mobile (fee 1.50), month past the free units and block 1:
        // 18.00 + VAT 2.70 = 20.70, + 1.50 fee = 22.20.
        let account = AccountPosition(monthPurchasedTenths: 600, monthFreeTenths: 100)
        let sale = try SalePricing(tariff: home, channel: "mobile").price(units: 100, account: account)
        #expect(sale.paid == (try Money("22.20")) && sale.unitsEncoded == 100 && sale.isBalanced)
    }

    @Test func tariffsAreValidated() {
        #expect(throws: TariffError.self) { try Tariff(name: "x", blocks: []) }
        #expect(throws: TariffError.self) {
            try Tariff(name: "x", blocks: [TariffBlock(upToTenths: 500, price: EnergyPrice("1")), TariffBlock(upToTenths: 400, price: EnergyPrice("1")),
                                          TariffBlock(upToTenths: nil, price: EnergyPrice("1"))])
        }
        #expect(throws: TariffError.self) { try Tariff(name: "x", blocks: [TariffBlock(upToTenths: 5, price: EnergyPrice("1"))]) }
        #expect(throws: TariffError.self) { try Tariff.flat(name: "x", price: EnergyPrice("1"), vatBasisPoints: 20_000) }
    }

    @Test("blocks as people write them: UPTO_KWH=PRICE, rest=PRICE, or a price alone")
    func blockText() throws {
        #expect(try TariffBlock(text: "350=1.50") == TariffBlock(upToTenths: 3_500, price: EnergyPrice(perKWhTenThousandths: 15_000)))
        #expect(try TariffBlock(text: " 50 = 1.2 ") == TariffBlock(upToTenths: 500, price: EnergyPrice(perKWhTenThousandths: 12_000)))
        #expect(try TariffBlock(text: "rest=2.10") == TariffBlock(upToTenths: nil, price: EnergyPrice(perKWhTenThousandths: 21_000)))
        #expect(try TariffBlock(text: "1.80") == TariffBlock(upToTenths: nil, price: EnergyPrice(perKWhTenThousandths: 18_000)))
        #expect(throws: TariffError.self) { try TariffBlock(text: "lots=1.00") }
        #expect(throws: TariffError.self) { try TariffBlock(text: "50=1.2x") }
    }
}
