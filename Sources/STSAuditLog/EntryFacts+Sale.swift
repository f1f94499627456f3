import Foundation
import STSBatch
import STSCrypto
import STSTariff
import STSTokenFormat
import STSVending

/// Reading a `sale` entry's receipt: its members, money sums and units (audit-log.md §5 step 2).
extension FieldReader {
    /// The members of a sale receipt the verifier reads, found in one pass over `data`.
    struct SaleMembers {
        var sale, account, money, carriedIn, carriedOut, deductions, blocks, units, meter, tokens, currency, card: Int?
    }

    func saleMembers(_ data: Int) -> SaleMembers {
        // The names the station writes (SaleEntry), matched by length first.
        typealias E = SaleEntry.Member
        var m = SaleMembers()
        var next = tape.firstChild(data)
        while let k = next {
            // Escaped names are matched by their decoded text (their written length differs).
            switch tape.keyIsEscaped(k) ? Self.decodedLength(tape, k) : tape.keyLength(k) {
            case 4: if tape.keyEquals(k, E.sale) { m.sale = k } else if tape.keyEquals(k, E.card) { m.card = k }
            case 5: if tape.keyEquals(k, E.money) { m.money = k } else if tape.keyEquals(k, E.meter) { m.meter = k }
            case 6: if tape.keyEquals(k, E.blocks) { m.blocks = k } else if tape.keyEquals(k, E.tokens) { m.tokens = k }
            case 7: if tape.keyEquals(k, E.account) { m.account = k }
            case 8: if tape.keyEquals(k, E.currency) { m.currency = k }
            case 10: if tape.keyEquals(k, E.carriedIn) { m.carriedIn = k } else if tape.keyEquals(k, E.deductions) { m.deductions = k }
            case 11: if tape.keyEquals(k, E.carriedOut) { m.carriedOut = k }
            case 12: if tape.keyEquals(k, E.unitsTenths) { m.units = k }
            default: break
            }
            next = tape.nextSibling(k, in: data)
        }
        return m
    }

    static func decodedLength(_ tape: JSONTape, _ k: Int) -> Int { tape.key(k).count }

    /// A currency amount: 1–15 digits, then optionally `.` and 1–5 digits.
    static func isAmount(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let dot = text.firstIndex(of: UInt8(ascii: "."))
        let whole = dot ?? text.count, fraction = dot.map { text.count - $0 - 1 } ?? 0
        guard (1...15).contains(whole), dot == nil || (1...5).contains(fraction) else { return false }
        return text.enumerated().allSatisfy { i, c in i == dot || (c >= 48 && c <= 57) }
    }

    mutating func readSale(_ data: Int, keys: [String: VendingKey]?) {
        let m = saleMembers(data)
        facts.saleID = m.sale.flatMap { tape.integer($0) }
        facts.account = m.account.flatMap { tape.integer($0) }
        guard facts.saleID != nil, facts.account != nil else {
            problem("format", "a sale needs integer sale and account")
            facts.kind = .other
            return
        }
        facts.paid = money(m.money, "money") ?? 0
        facts.carriedIn = money(m.carriedIn, "carried_in") ?? 0
        facts.carriedOut = money(m.carriedOut, "carried_out") ?? 0
        // Sums in 128 bits: each term is below 2^57, so no line can overflow them.
        var spent: Int128 = 0
        var voidable: Int128 = 0
        facts.onCard = m.card.map { tape.kind($0) == .object } ?? false
        defer {
            // Read after the tokens: the card purchase is known by the credit token's TID too.
            if let card = m.card, facts.onCard, let tid = facts.firstTID?.tid {
                facts.cardPurchase = CardPurchaseKey(tape, serial: tape.member(card, "serial"), sequence: integer(card, "sequence"), tid: tid)
            }
        }
        defer { facts.voidable = Int64(clamping: voidable) }
        if let list = m.deductions {
            guard tape.kind(list) == .array else { problem("format", "\"deductions\" must be an array"); return }
            var d = tape.firstChild(list)
            while let item = d {
                let amount = Int128(money(item, "amount", "deductions.amount") ?? 0)
                spent += amount
                if let k = tape.member(item, "kind"), tape.stringEquals(k, "vat") { voidable += amount }
                d = tape.nextSibling(item, in: list)
            }
        }
        var tenths: Int128 = 0
        if let list = m.blocks {
            guard tape.kind(list) == .array else { problem("format", "\"blocks\" must be an array"); return }
            var next = tape.firstChild(list)
            while let b = next {
                next = tape.nextSibling(b, in: list)
                guard let n = integer(b, "tenths"), (0...maximumTenths).contains(n),
                      let p = tape.member(b, "price"), let priceText = tape.plainBytes(p),
                      let price = EnergyPrice.tenThousandths(priceText)
                else {
                    problem("format", "a tariff block needs integer tenths (0 to \(maximumTenths)) and a price (digits, at most 4 decimals)")
                    continue
                }
                let cost = money(b, "cost", "blocks.cost") ?? 0
                // 64-bit when the product fits (every genuine block), 128-bit otherwise.
                let product = n.multipliedReportingOverflow(by: price)
                let sum = product.partialValue.addingReportingOverflow(500)
                let exact = !product.overflow && !sum.overflow
                let matches = exact ? Int64(cost) == sum.partialValue / 1_000 : Int128(cost) == (Int128(n) * Int128(price) + 500) / 1_000
                if !matches {
                    problem("money", "block cost \(Money(cents: cost)) is not \(n) tenths of a kWh at \(EnergyPrice(perKWhTenThousandths: price)) (rounded half up)")
                }
                tenths += Int128(n)
                spent += Int128(cost)
                voidable += Int128(cost)
            }
        }
        // A currency meter's sale: the money spent on its credit, and the amount its token carries
        // (never more than was spent).
        var currencyUnits: Int128?
        var currencyReadable = true
        if let c = m.currency {
            if tape.kind(c) == .object, let cost = money(c, "cost", "currency.cost"), let a = tape.member(c, "amount"),
                  let text = tape.plainBytes(a), Self.isAmount(text),
                  let units = try? DecimalQuantity.units(String(decoding: text, as: UTF8.self), scale: 5),
                  units > 0, units <= Int128(cost) * 1_000 {
                spent += Int128(cost)
                voidable += Int128(cost)
                currencyUnits = units
            } else {
                // Still read the tokens below: their TIDs take part in the no-TID-twice rule.
                problem("money", "a currency sale's \"currency\" needs a cost and an amount (5 decimals at most) not above it")
                currencyReadable = false
            }
        }
        if currencyReadable, Int128(facts.paid) + Int128(facts.carriedIn) != spent + Int128(facts.carriedOut) {
            problem("money", "money in (\(Money(cents: facts.paid)) paid + \(Money(cents: facts.carriedIn)) carried) is not deductions and energy (\(CentsText.format(spent))) + carried out (\(Money(cents: facts.carriedOut)))")
        }
        let stated = m.units.flatMap { tape.integer($0) }
        facts.units = stated.map { (0...maximumTenths).contains($0) ? $0 : 0 } ?? 0
        if stated != nil, Int128(stated ?? 0) == tenths, (0...maximumTenths).contains(stated ?? 0) {
        } else {
            problem("units", "units \(stated.map { "\($0)" } ?? "(not an integer)") is not the sum of the tariff blocks (\(tenths) tenths of a kWh, at most \(maximumTenths))")
        }
        readTokens(meter: m.meter, tokens: m.tokens, keys: keys, expectedUnits: stated, expectedCurrency: currencyUnits, checkCurrency: currencyReadable)
    }
}
