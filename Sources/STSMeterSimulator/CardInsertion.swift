import Foundation
import STSCard
import STSMeter
import STSTokenFormat

/// What a card-reading meter did with an inserted card.
public struct CardInsertionOutcome: Equatable, Sendable {
    /// `accept` (purchase applied), `already-entered` (its tokens were typed on the keypad
    /// first: delivered, nothing added twice), `used` (already applied), `sequence-gap`, `wrong-meter`,
    /// or the meter's token result when a token on the card was refused.
    public var result: String
    /// The purchase sequence on the card, if any.
    public var sequence: UInt32?
    /// Each token's result, in order.
    public var tokenResults: [TokenResult] = []
    /// The return record to write back onto the card; nil for a card the meter refuses
    /// (another meter's card is never written by this meter).
    public var returned: ReturnRecord?
}

extension SimulatedMeter {
    /// Decides what to do with a card's verified contents and applies the purchase: only a
    /// purchase numbered exactly one more than the last applied one is credited, through the
    /// STS decoder (whose TID memory is a second, independent replay barrier). Equal or lower
    /// numbers apply nothing; a gap is reported. The caller saves this state **before** writing
    /// ``CardInsertionOutcome/returned`` to the card, so a card pulled mid-write is simply
    /// recognised as already applied next time.
    public mutating func applyCard(_ contents: CardVending.Contents, at now: Int64) -> CardInsertionOutcome {
        let minute = UInt32(clamping: max(0, now / 60))
        let serial = Hex.upper(contents.serial)
        let cardSequence = cardSequences[serial] ?? 0
        func returnRecord(_ code: UInt8, gap: Bool) -> ReturnRecord {
            var flags: UInt16 = 0
            if state.registers.tamper { flags |= ReturnRecord.tamperFlag }
            if !relay.isClosed { flags |= ReturnRecord.relayOpenFlag }
            if gap { flags |= ReturnRecord.sequenceGapFlag }
            return ReturnRecord(result: code, lastSequence: cardSequence, creditTenths: electricityTenths,
                                consumptionTenths: consumedTenths, flags: flags, minute: minute, meter: state.pan)
        }
        guard contents.info.meter == state.pan, contents.info.type == .user else {
            log(now, "card", "refused: card for meter \(contents.info.meter) (\(contents.info.type))")
            return CardInsertionOutcome(result: "wrong-meter", sequence: nil, returned: nil)
        }
        guard let purchase = contents.purchase, purchase.sequence > cardSequence else {
            log(now, "card", "no new purchase (card at \(contents.purchase?.sequence ?? 0), meter at \(cardSequence))")
            return CardInsertionOutcome(result: "used", sequence: contents.purchase?.sequence, returned: returnRecord(2, gap: false))
        }
        guard purchase.sequence == cardSequence + 1 else {
            log(now, "card", "sequence gap: card purchase \(purchase.sequence), meter expects \(cardSequence + 1)")
            return CardInsertionOutcome(result: "sequence-gap", sequence: purchase.sequence, returned: returnRecord(3, gap: true))
        }
        var results: [TokenResult] = []
        for token in purchase.tokens {
            results.append(enter(token.digits, at: now).result)
        }
        // Delivered when every token was accepted now, or was already held: a token whose TID
        // the meter remembers (USED) decrypted under this meter's key with that TID, so it is
        // this purchase's token typed on the keypad before the card was inserted (the station
        // issues a TID to a meter once). Anything else refused keeps the purchase pending.
        if results.allSatisfy({ $0.isAccepted || $0 == .used }) {
            cardSequences[serial] = purchase.sequence
            let held = results.filter { $0 == .used }.count
            log(now, "card", held == 0 ? "purchase \(purchase.sequence) applied"
                : "purchase \(purchase.sequence) delivered: \(held) of its \(results.count) tokens were already entered on the keypad")
            var returned = returnRecord(1, gap: false)
            returned.lastSequence = purchase.sequence
            return CardInsertionOutcome(result: held == 0 ? "accept" : "already-entered", sequence: purchase.sequence,
                                        tokenResults: results, returned: returned)
        }
        let refused = results.first { !$0.isAccepted && $0 != .used } ?? .format
        log(now, "card", "purchase \(purchase.sequence) refused: \(refused.rawValue)")
        return CardInsertionOutcome(result: refused.rawValue, sequence: purchase.sequence, tokenResults: results, returned: returnRecord(4, gap: false))
    }

    /// The whole insertion against a card channel, for callers that hold the meter in memory:
    /// read and verify, apply, write the return record.
    public mutating func insertCard<C: CardChannel>(_ session: inout CardSession<C>, master: IssuerMasterKey, at now: Int64) throws -> CardInsertionOutcome {
        let contents = try CardVending.read(&session, master: master)
        let outcome = applyCard(contents, at: now)
        if let returned = outcome.returned {
            let keys = try master.cardKeys(serial: contents.serial)
            try session.write(.returnData, returned.encode(keys: keys, serial: contents.serial), keys: keys)
        }
        return outcome
    }
}

extension StateFile {
    /// The whole insertion into the meter kept in the state file at `path`: read and verify the
    /// card, apply its purchase and save the meter, and only then write the return record onto
    /// the card, so a card pulled mid-write is recognised as already applied next time. `clock`
    /// gives the meter's time once the card has been read. Returns the outcome and the meter as saved.
    public static func insertCard<C: CardChannel>(_ session: inout CardSession<C>, master: IssuerMasterKey, into path: String,
                                                  clock: () throws -> Int64) throws -> (outcome: CardInsertionOutcome, meter: SimulatedMeter) {
        let contents = try CardVending.read(&session, master: master)
        let now = try clock()
        let (outcome, meter) = try update(path) { m in (m.applyCard(contents, at: now), m) }
        if let returned = outcome.returned {
            let keys = try master.cardKeys(serial: contents.serial)
            try session.write(.returnData, returned.encode(keys: keys, serial: contents.serial), keys: keys)
        }
        return (outcome, meter)
    }
}
