import STSAuditLog
import STSCrypto
import STSTariff
import STSTokenFormat
import STSVending
import Testing

/// The sale entry the station writes, byte for byte (audit-log.md §4), and read back clean.
@Suite struct SaleEntryTests {
    @Test("the worked example's receipt, members in order, no whitespace; a card and currency sale adds its objects")
    func bytes() throws {
        let meter = try MeterProfile(pan: MeterPAN("600727000000000009"), supplyGroup: SupplyGroupCode("123456"), tariffIndex: TariffIndex(1),
                                     revision: KeyRevisionNumber(1), keyType: .unique, expiry: KeyExpiryNumber(255), baseDate: .y2014,
                                     derivation: .dkga02, encryption: .sta)
        let breakdown = SaleBreakdown(
            paid: try Money("100.00"), carriedIn: .zero,
            deductions: [Deduction(kind: .arrears, amount: try Money("20.00")), Deduction(kind: .vat, amount: try Money("10.43"))],
            blocks: [BlockUse(block: 0, price: EnergyPrice(perKWhTenThousandths: 0), tenths: 100, cost: .zero),
                     BlockUse(block: 1, price: try EnergyPrice("1.20"), tenths: 500, cost: try Money("60.00")),
                     BlockUse(block: 2, price: try EnergyPrice("1.80"), tenths: 53, cost: try Money("9.54"))],
            unitsAsked: nil, unitsEncoded: 653, carriedOut: try Money("0.03"))
        #expect(breakdown.isBalanced)
        let entry = SaleEntry(sale: 1, requestID: "r1", time: 1_795_426_867, meter: meter, vendingKey: "k1", account: 1, customer: "Alice",
                              operator: "olly", channel: "counter", tariff: "home", tariffVersion: 1, breakdown: breakdown, tokens: [])
        let expected = #"{"sale":1,"request_id":"r1","kind":"credit","time":"2026-11-23T09:41:07Z","meter":{"pan":"600727000000000009","sgc":"123456","ti":1,"krn":1,"kt":2,"ken":255,"base_date":2014,"dkga":2,"ea":7,"vending_key":"k1"},"account":1,"customer":"Alice","operator":"olly","channel":"counter","tariff":"home","tariff_version":1,"money":"100.00","carried_in":"0.00","deductions":[{"kind":"arrears","amount":"20.00"},{"kind":"vat","amount":"10.43"}],"blocks":[{"block":0,"price":"0.0000","tenths":100,"cost":"0.00"},{"block":1,"price":"1.2000","tenths":500,"cost":"60.00"},{"block":2,"price":"1.8000","tenths":53,"cost":"9.54"}],"units_asked":null,"units_tenths":653,"carried_out":"0.03","tokens":[],"warnings":[]}"#
        #expect(String(decoding: entry.bytes, as: UTF8.self) == expected)

        var currency = SaleBreakdown(paid: try Money("100.00"), carriedIn: .zero, deductions: [], blocks: [], unitsAsked: nil, unitsEncoded: 0,
                                     carriedOut: .zero)
        currency.currency = SaleBreakdown.CurrencyCredit(cost: try Money("100.00"), units: 9_999_624)
        var onCard = entry
        onCard.breakdown = currency
        onCard.card = SaleEntry.Card(serial: "0102030405060708", sequence: 3)
        let text = String(decoding: onCard.bytes, as: UTF8.self)
        #expect(text.contains(#""units_tenths":0,"currency":{"cost":"100.00","amount":"99.99624"},"carried_out":"0.00","tokens":[],"card":{"serial":"0102030405060708","sequence":3},"warnings":[]}"#), "\(text)")
    }
}
