import STSCrypto
import STSTokenFormat
import STSVending

/// A card sale made without a station: the credit token is issued here and the sale is kept in
/// a ``CardSalesJournal``, so paid credit is never lost and never delivered twice.
///
/// The sale is appended to the journal as `pending` (synced) before the card is written, and as
/// `delivered` once the card took it. A card whose journal holds a pending sale gets exactly that
/// purchase again (an interrupted write is completed, never sold anew); a card still carrying a
/// purchase its meter has not applied takes no new one. TIDs come after every TID the journal
/// holds for the meter.
public struct JournalCardSale: Sendable {
    /// The purchase now on the card.
    public var record: PurchaseRecord
    /// The card's serial, 16 upper-case hex digits (as the journal keys it).
    public var serial: String
    /// The meter the card is issued for.
    public var meter: MeterPAN
    /// True when this completed a pending sale rather than making a new one.
    public var completedPending: Bool

    /// Sells `units` (tenths of a kWh) of electricity onto the card in `session`.
    ///
    /// - Parameters:
    ///   - master: the issuer master key the card's keys derive from.
    ///   - vendingKey: the vending key the meter's decoder key derives from.
    ///   - stationID: this vending station's number, written in the purchase.
    ///   - clock: the time of sale (Unix seconds); only asked for when a new sale is made.
    ///   - meter: the meter's profile, given the meter the card is issued for; a profile for
    ///     another meter is refused (``CardError/wrongMeter(_:)``).
    public static func sell<C: CardChannel>(_ session: inout CardSession<C>, master: IssuerMasterKey, vendingKey: VendingKey, units: UInt64,
                                            stationID: UInt32, journal: CardSalesJournal, clock: () throws -> Int64,
                                            meter: (MeterPAN) throws -> MeterProfile) throws -> JournalCardSale {
        let contents = try CardVending.read(&session, master: master)
        let profile = try meter(contents.info.meter)
        guard contents.info.meter == profile.pan else { throw CardError.wrongMeter("the card is for meter \(contents.info.meter), not \(profile.pan)") }
        guard contents.info.type == .user else { throw CardError.badRecord("a \(contents.info.type) card cannot carry purchases") }
        let issuer = try TokenIssuer(meter: profile, vendingKey: vendingKey)
        let serial = hex(contents.serial)
        var entry: CardSalesJournal.Entry
        let completed: Bool
        if let pending = try journal.pending(serial: serial) {
            // An interrupted sale: deliver exactly that purchase, never a new one.
            entry = pending
            completed = true
        } else {
            if let unapplied = contents.unappliedPurchase {
                throw CardError.badRecord("the card still carries purchase \(unapplied.sequence), not yet applied by the meter: insert it into the meter first")
            }
            let now = try clock()
            let tid = try TokenIdentifierAllocator.next(atUnixSeconds: now, baseDate: profile.baseDate, after: try journal.tids(meter: profile.pan))
            let token = try issuer.credit(.electricity, units: units, tid: tid, rnd: randomNibble())
            guard let encoded = token.encodedUnits.flatMap({ UInt32(exactly: $0) }) else {
                throw CardError.badRecord("\(units) units do not fit a card purchase")
            }
            let record = PurchaseRecord(sequence: CardVending.nextSequence(contents), station: stationID, issuedMinute: UInt32(clamping: max(0, now / 60)),
                                        units: encoded, kind: .electricity, tokens: [token.number], tid: tid.value)
            entry = CardSalesJournal.Entry(serial: serial, record: record, meter: profile.pan, tid: tid.value, state: "pending")
            try journal.append(entry)
            completed = false
        }
        let record = try entry.record()
        _ = try CardVending.sell(&session, master: master, expectedMeter: profile.pan, record: record)
        entry.state = "delivered"
        try journal.append(entry)
        return JournalCardSale(record: record, serial: serial, meter: profile.pan, completedPending: completed)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    private static func randomNibble() -> UInt8 {
        var g = SystemRandomNumberGenerator()
        return UInt8.random(in: 0...15, using: &g)
    }
}
