import Foundation
import STSCard
import STSMeterSimulator
import STSTokenFormat
import Testing

/// Card sales without a station: the journal keeps every sale pending until the card took it.
struct JournalCardSaleTests {
    func journal() -> CardSalesJournal { CardSalesJournal(path: NSTemporaryDirectory() + "card-journal-\(UUID().uuidString).jsonl") }

    func sell(_ session: inout CardSession<some CardChannel>, units: UInt64, journal: CardSalesJournal, at now: Int64 = 1_800_000_000,
              pan: MeterPAN? = nil) throws -> JournalCardSale {
        try JournalCardSale.sell(&session, master: CardTests.master, vendingKey: CardTests.vk, units: units, stationID: 3, journal: journal,
                                 clock: { now }) { cardMeter in
            var profile = CardTests.meterProfile
            profile.pan = pan ?? cardMeter
            return profile
        }
    }

    @Test("a sale is journalled pending, then delivered; the next waits until the meter applied the last")
    func saleAndNext() throws {
        let book = journal()
        defer { unlink(book.path) }
        var session = CardSession(channel: CardTests.blankCard())
        _ = try CardVending.issue(&session, master: CardTests.master, meter: CardTests.meterProfile.pan, issuer: 1)
        let first = try sell(&session, units: 123, journal: book)
        #expect(first.record.sequence == 1 && first.record.units == 123 && first.record.station == 3 && !first.completedPending)
        #expect(first.serial == "1122334455667707" && first.meter == CardTests.meterProfile.pan)
        #expect(try book.entries().map(\.state) == ["pending", "delivered"])
        #expect(throws: CardError.self) { try sell(&session, units: 10, journal: book) }
        #expect(throws: CardError.self) { try sell(&session, units: 10, journal: book, pan: try MeterPAN("000001000000000082")) }
        var meter = try CardTests.meter()
        #expect(try meter.insertCard(&session, master: CardTests.master, at: 1_800_000_060).result == "accept")
        let second = try sell(&session, units: 50, journal: book, at: 1_800_000_120)
        #expect(second.record.sequence == 2 && second.record.tid > first.record.tid, "TIDs follow the journal's")
    }

    @Test("a card pulled before the write: the pending sale is delivered next time, never a new one")
    func pulledCard() throws {
        let book = journal()
        defer { unlink(book.path) }
        var session = CardSession(channel: CardTests.blankCard())
        _ = try CardVending.issue(&session, master: CardTests.master, meter: CardTests.meterProfile.pan, issuer: 1)
        // The sale reads the card (5 APDUs), journals the sale, then loses the card.
        var pulled = CardSession(channel: PulledCard(inner: session.channel, remaining: 5))
        #expect(throws: (any Error).self) { try sell(&pulled, units: 100, journal: book) }
        #expect(try book.entries().map(\.state) == ["pending"])
        var again = CardSession(channel: pulled.channel.inner)
        let completed = try sell(&again, units: 999, journal: book)
        #expect(completed.completedPending && completed.record.units == 100 && completed.record.sequence == 1)
        #expect(try book.entries().map(\.state) == ["pending", "delivered"])
    }
}
