import Foundation
import STSAuditLog
import Testing

/// The verifier's rules for card voids and currency sales, on logs crafted line by line.
@Suite struct CardAndCurrencyLogTests {
    /// A void of card sale `sale`, naming its card purchase (sequence and TID = the sale's number, as `cardSale` writes them).
    static func void(_ sale: Int, account: Int = 1, restored: String, sequence: Int? = nil) -> String {
        #"{"sale":\#(sale),"account":\#(account),"pan":"600727000000000009","serial":"0102030405060708","sequence":\#(sequence ?? sale),"tid":\#(sale),"state":"delivered","credit_restored":"\#(restored)","reason":"refused"}"#
    }

    /// A card sale of 10.00: 4.00 channel fee, 6.00 of energy (60 tenths at 1.0000), written to card sequence `sequence`.
    static func cardSale(_ id: Int, carriedIn: String = "0.00", carriedOut: String = "0.00", card: Bool = true) -> String {
        let sale = LogBuilder.sale(id, money: "10.00", carriedIn: carriedIn, carriedOut: carriedOut, deductions: #"[{"kind":"channel_fee","amount":"4.00"}]"#,
                                   blocks: #"[{"block":1,"price":"1.0000","tenths":60,"cost":"6.00"}]"#, units: "60",
                                   tokens: #"[{"token":"12345678901234567890","tid":\#(id),"class":0,"subclass":0}]"#)
        return card ? sale.replacingOccurrences(of: #","warnings""#, with: #","card":{"serial":"0102030405060708","sequence":\#(id)},"warnings""#) : sale
    }

    @Test("a card void gives back exactly the sale's energy and VAT, into the account's next sale; card sales are never reversed")
    func cardVoids() {
        var log = LogBuilder()
        log.add("sale", Self.cardSale(1))
        log.add("sale", Self.cardSale(2))
        log.add("card_void", Self.void(1, restored: "6.00"))
        // Carried in: sale 2's 0.00 carried out + 6.00 restored.
        log.add("sale", Self.cardSale(3, carriedIn: "6.00", carriedOut: "6.00"))
        log.export()
        let clean = log.verify()
        #expect(clean.isClean, "\(clean.problems)")
        #expect(clean.cardVoids == 1 && clean.sales == 3)

        var bad = LogBuilder()
        bad.add("sale", Self.cardSale(1))
        bad.add("card_void", Self.void(1, restored: "6.00"))
        bad.add("card_void", Self.void(1, restored: "6.00"))                      // line 4: voided twice
        bad.add("card_void", Self.void(7, restored: "1.00"))                      // line 5: no such sale
        bad.add("sale", Self.cardSale(2, carriedIn: "6.00", carriedOut: "6.00"))
        bad.add("card_void", Self.void(2, restored: "10.00"))                     // line 7: the fee is not given back
        bad.add("reversal", #"{"sale":1,"account":1,"refund":"10.00","carried_restored":"0.00","reason":"x"}"#)   // line 8: a card sale
        bad.add("sale", Self.cardSale(3, carriedIn: "16.00", carriedOut: "16.00", card: false))
        bad.add("card_void", Self.void(3, restored: "6.00"))                      // line 10: not a card sale
        bad.add("sale", Self.cardSale(4, carriedIn: "16.00", carriedOut: "16.00"))
        bad.add("card_void", Self.void(4, restored: "6.00", sequence: 9))          // line 12: another purchase of the card
        bad.add("card_void", #"{"sale":null,"account":null,"pan":"600727000000000009","serial":"01","sequence":1,"tid":5,"state":"pending","credit_restored":"1.00","reason":"x"}"#)  // line 13
        bad.export()
        let r = bad.verify()
        #expect(r.problems.map(\.line) == [4, 5, 7, 8, 10, 12, 13], "\(r.problems)")
        #expect(r.problems.map(\.code) == ["reference", "reference", "money", "reference", "reference", "reference", "money"], "\(r.problems)")
    }

    static func currencySale(cost: String, amount: String, money: String = "100.00", carriedOut: String = "0.00") -> String {
        LogBuilder.sale(1, money: money, carriedOut: carriedOut, blocks: "[]", units: "0")
            .replacingOccurrences(of: #","carried_out""#, with: #","currency":{"cost":"\#(cost)","amount":"\#(amount)"},"carried_out""#)
    }

    @Test("a currency sale balances with its currency cost, and its amount is never above it")
    func currencySales() {
        var log = LogBuilder()
        log.add("sale", Self.currencySale(cost: "100.00", amount: "99.99624"))
        log.export()
        #expect(log.verify().isClean, "\(log.verify().problems)")

        for (cost, amount, money, why) in [("99.00", "99.00000", "100.00", "unbalanced"), ("100.00", "100.00001", "100.00", "amount above cost"),
                                           ("100.00", "1.000001", "100.00", "six decimals"), ("100.00", "0", "100.00", "nothing")] {
            var bad = LogBuilder()
            bad.add("sale", Self.currencySale(cost: cost, amount: amount, money: money))
            bad.export()
            let r = bad.verify()
            #expect(r.problems.map(\.code) == ["money"] && r.problems.first?.line == 2, "\(why): \(r.problems)")
        }
    }

    @Test("entry types this verifier does not know are chained and nothing more")
    func unknownTypes() {
        var log = LogBuilder()
        log.add("from_a_newer_station", #"{"anything":[1,2,3]}"#)
        log.export()
        #expect(log.verify().isClean)
    }
}
