import Foundation
import STSAuditLog
import Testing

/// The checks only the union of several stations' logs shows: TIDs across stations and the
/// carried credit of accounts sold at more than one station.
@Suite struct ChainUnionTests {
    static let otherPAN = "600727000000000017"

    /// A credit sale on account `account`: one tariff block at 1.0000 per kWh (`tenths` tenths
    /// cost `cost`), its token carrying `tid`. The caller makes money + carried in = cost + carried out.
    static func sale(_ id: Int, account: Int = 1, money: String = "10.00", carriedIn: String = "0.00", carriedOut: String = "0.00",
                     tenths: Int, cost: String, tid: Int, pan: String? = nil) -> String {
        let data = LogBuilder.sale(id, account: account, money: money, carriedIn: carriedIn, carriedOut: carriedOut,
                                   blocks: #"[{"block":1,"price":"1.0000","tenths":\#(tenths),"cost":"\#(cost)"}]"#, units: "\(tenths)",
                                   tokens: #"[{"token":"12345678901234567890","tid":\#(tid),"class":0,"subclass":0}]"#)
        return pan.map { data.replacingOccurrences(of: "600727000000000009", with: $0) } ?? data
    }

    static func union(_ logs: [(String, LogBuilder)]) -> ChainUnion {
        var u = ChainUnion()
        for (name, log) in logs { u.add(station: name, log: log.bytes) }
        return u
    }

    @Test("two stations with disjoint TIDs whose shared account carries credit from one to the other are clean")
    func cleanStations() {
        var a = LogBuilder(), b = LogBuilder()
        // Account 1: A's sale 1 carries out 0.50; B's sale 2 carries it in and leaves 0.20; A's sale 3 takes the 0.20.
        a.add("sale", Self.sale(1, carriedOut: "0.50", tenths: 95, cost: "9.50", tid: 101))        // 10.00 + 0.00 = 9.50 + 0.50
        b.add("sale", Self.sale(2, carriedIn: "0.50", carriedOut: "0.20", tenths: 103, cost: "10.30", tid: 102))   // 10.50 = 10.30 + 0.20
        a.add("sale", Self.sale(3, money: "5.00", carriedIn: "0.20", tenths: 52, cost: "5.20", tid: 103))          // 5.20 = 5.20 + 0.00
        // Account 2 on another meter, TID 101 again: another meter's TIDs are its own.
        b.add("sale", Self.sale(4, account: 2, tenths: 100, cost: "10.00", tid: 101, pan: Self.otherPAN))
        a.export()
        b.export()
        let u = Self.union([("A", a), ("B", b)])
        #expect(u.problems().isEmpty, "\(u.problems())")
        #expect(u.stations == 2 && u.sales == 4 && u.meters == 2)
    }

    @Test("the same meter given the same TID by two stations is one problem, at the second station's line")
    func tidAcrossStations() {
        var a = LogBuilder(), b = LogBuilder()
        a.add("sale", Self.sale(1, tenths: 100, cost: "10.00", tid: 101))
        a.add("sale", Self.sale(2, account: 2, tenths: 100, cost: "10.00", tid: 7, pan: Self.otherPAN))
        b.add("sale", Self.sale(3, tenths: 100, cost: "10.00", tid: 101))                           // line 2: meter …009 had 101 from A
        b.add("sale", Self.sale(4, tenths: 100, cost: "10.00", tid: 7))                             // 7 went to the other meter: fine
        a.export()
        b.export()
        let problems = Self.union([("A", a), ("B", b)]).problems()
        #expect(problems.map(\.problem.code) == ["tid-reused-across-stations"], "\(problems)")
        #expect(problems.first?.station == "B" && problems.first?.problem.line == 2 && problems.first?.problem.seq == 2)
        let message = problems.first?.problem.message ?? ""
        #expect(message.contains("600727000000000009") && message.contains("TID 101") && message.contains("A (line 2)")
                && message.contains("B (line 2)"), "\(message)")
    }

    @Test("a sale carrying in what the other station's previous sale did not carry out is one break, naming both")
    func carriedBreak() {
        var a = LogBuilder(), b = LogBuilder()
        a.add("sale", Self.sale(1, carriedOut: "0.50", tenths: 95, cost: "9.50", tid: 101))
        b.add("sale", Self.sale(2, tenths: 100, cost: "10.00", tid: 102))                           // line 2: carries in 0.00, not 0.50
        a.add("sale", Self.sale(3, tenths: 100, cost: "10.00", tid: 103))                           // follows sale 2's 0.00: fine
        a.export()
        b.export()
        let problems = Self.union([("A", a), ("B", b)]).problems()
        #expect(problems.map(\.problem.code) == ["carried-credit-break"], "\(problems)")
        #expect(problems.first?.station == "B" && problems.first?.problem.line == 2)
        let message = problems.first?.problem.message ?? ""
        #expect(message.contains("account 1") && message.contains("sale 2 at B") && message.contains("sale 1 at A")
                && message.contains("0.50"), "\(message)")
    }

    @Test("a reversal at another station restores the reversed sale's carried-in for the next sale")
    func reversalAcrossStations() {
        for (carriedIn, cost, tenths, breaks) in [("0.50", "10.50", 105, 0), ("0.20", "10.20", 102, 1)] {
            var a = LogBuilder(), b = LogBuilder()
            a.add("sale", Self.sale(1, carriedOut: "0.50", tenths: 95, cost: "9.50", tid: 101))
            a.add("sale", Self.sale(2, carriedIn: "0.50", carriedOut: "0.20", tenths: 103, cost: "10.30", tid: 102))
            b.add("reversal", #"{"sale":2,"account":1,"refund":"10.00","carried_restored":"0.50","reason":"x"}"#)
            // After the reversal the account carries sale 2's 0.50 in, not its 0.20 out.
            b.add("sale", Self.sale(3, carriedIn: carriedIn, tenths: tenths, cost: cost, tid: 103))
            a.export()
            b.export()
            let problems = Self.union([("A", a), ("B", b)]).problems()
            #expect(problems.count == breaks && problems.allSatisfy { $0.problem.code == "carried-credit-break" && $0.problem.line == 3 },
                    "carried in \(carriedIn): \(problems)")
        }
    }

    @Test("one station's log, clean alone with a reversal and a card void, is clean in the union")
    func cleanSingleLog() {
        var log = LogBuilder()
        log.add("sale", Self.sale(1, carriedOut: "0.50", tenths: 95, cost: "9.50", tid: 1))
        log.add("sale", Self.sale(2, carriedIn: "0.50", carriedOut: "0.20", tenths: 103, cost: "10.30", tid: 2))
        log.add("reversal", #"{"sale":2,"account":1,"refund":"10.00","carried_restored":"0.50","reason":"x"}"#)
        log.add("sale", Self.sale(3, money: "5.00", carriedIn: "0.50", tenths: 55, cost: "5.50", tid: 3))          // 5.50 = 5.50 + 0.00
        log.add("sale", CardAndCurrencyLogTests.cardSale(4))                                                     // energy 6.00, TID 4
        log.add("card_void", CardAndCurrencyLogTests.void(4, restored: "6.00"))
        log.add("sale", Self.sale(5, carriedIn: "6.00", carriedOut: "6.00", tenths: 100, cost: "10.00", tid: 5))   // 16.00 = 10.00 + 6.00
        log.export()
        let alone = log.verify()
        #expect(alone.isClean, "\(alone.problems)")
        let u = Self.union([("A", log)])
        #expect(u.problems().isEmpty, "\(u.problems())")
        #expect(u.sales == 5 && u.meters == 1)
    }
}
