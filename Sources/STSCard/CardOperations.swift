import STSTokenFormat

/// The vending station's side of a card: issue (personalise) a blank card and sell onto it.
public enum CardVending {
    /// Everything read (and verified) from a personalised card.
    public struct Contents: Equatable, Sendable {
        /// The card's 8-byte serial.
        public var serial: [UInt8]
        /// The card's identity: its type, issuer and the meter it is bound to.
        public var info: CardInfo
        /// The last purchase written to the card, if any.
        public var purchase: PurchaseRecord?
        /// What the meter last wrote back (last sequence applied, credit, readings), if it has seen the card.
        public var returned: ReturnRecord?

        /// A purchase on the card that the meter has not applied yet.
        public var unappliedPurchase: PurchaseRecord? {
            guard let purchase, purchase.sequence > (returned?.lastSequence ?? 0) else { return nil }
            return purchase
        }
    }

    /// Personalises a blank card for `meter`: loads its write keys and writes the card info.
    public static func issue<C: CardChannel>(_ session: inout CardSession<C>, master: IssuerMasterKey, meter: MeterPAN,
                                             issuer: UInt32, type: CardType = .user) throws -> CardInfo {
        let serial = try session.open()
        let keys = try master.cardKeys(serial: serial)
        try session.personalise(keys: keys)
        let info = CardInfo(type: type, serial: serial, issuer: issuer, meter: meter)
        try session.write(.cardInfo, info.encode(keys: keys), keys: keys)
        return info
    }

    /// Reads and verifies the card: identity, the purchase on it and the meter's return record.
    public static func read<C: CardChannel>(_ session: inout CardSession<C>, master: IssuerMasterKey) throws -> Contents {
        let serial = try session.open()
        let keys = try master.cardKeys(serial: serial)
        let info = try CardInfo(bytes: try session.read(.cardInfo), keys: keys)
        guard info.serial == serial else { throw CardError.badRecord("the card info belongs to another card serial") }
        let purchase = try PurchaseRecord.decode(try session.read(.purchase), keys: keys, meter: info.meter, serial: serial)
        var returned = try ReturnRecord.decode(try session.read(.returnData), keys: keys, serial: serial)
        // Only the card's own meter writes its return record; anything else is ignored.
        if returned?.meter != info.meter { returned = nil }
        return Contents(serial: serial, info: info, purchase: purchase, returned: returned)
    }

    /// Writes the next purchase: sequence = the card's last + 1. Refused while the card still
    /// carries a purchase the meter has not applied (the station must not stack purchases), unless
    /// `record` is that very purchase being delivered again after an interrupted write, or the
    /// unapplied purchase is `withdrawn` (voided by the station because the meter refused it or it
    /// can never be applied): `record` then replaces it, numbered after the last purchase the meter
    /// applied.
    public static func sell<C: CardChannel>(_ session: inout CardSession<C>, master: IssuerMasterKey, expectedMeter: MeterPAN,
                                            record: PurchaseRecord, withdrawn: PurchaseRecord? = nil) throws -> Contents {
        let contents = try read(&session, master: master)
        guard contents.info.meter == expectedMeter else {
            throw CardError.wrongMeter("the card is for meter \(contents.info.meter), not \(expectedMeter)")
        }
        guard contents.info.type == .user else { throw CardError.badRecord("a \(contents.info.type) card cannot carry purchases") }
        let replacing = withdrawn != nil && contents.unappliedPurchase == withdrawn
        let next = replacing ? (contents.returned?.lastSequence ?? 0) + 1 : nextSequence(contents)
        if let pending = contents.unappliedPurchase, pending != record, !replacing {
            throw CardError.badRecord("the card still carries purchase \(pending.sequence), not yet applied by the meter: insert it into the meter first")
        }
        guard record.sequence == next || record == contents.purchase else {
            throw CardError.badRecord("the next purchase on this card is number \(next), not \(record.sequence)")
        }
        let keys = try master.cardKeys(serial: contents.serial)
        try session.write(.purchase, try record.encode(keys: keys, meter: contents.info.meter, serial: contents.serial), keys: keys)
        var after = contents
        after.purchase = record
        return after
    }

    /// The sequence number the next purchase on this card must carry: one after the card's
    /// purchase, or after the last one its meter applied when the card carries none (a withdrawn one).
    public static func nextSequence(_ contents: Contents) -> UInt32 {
        max(contents.purchase?.sequence ?? 0, contents.returned?.lastSequence ?? 0) + 1
    }

    /// Takes `withdrawn` off the card (the purchase file is written empty), so no meter can apply
    /// it any more: only that purchase, only while its meter has not applied it.
    public static func withdraw<C: CardChannel>(_ session: inout CardSession<C>, master: IssuerMasterKey, expectedMeter: MeterPAN,
                                                withdrawn: PurchaseRecord) throws {
        let contents = try read(&session, master: master)
        guard contents.info.meter == expectedMeter else {
            throw CardError.wrongMeter("the card is for meter \(contents.info.meter), not \(expectedMeter)")
        }
        guard contents.unappliedPurchase == withdrawn else {
            throw CardError.badRecord("the card does not carry purchase \(withdrawn.sequence) unapplied")
        }
        let keys = try master.cardKeys(serial: contents.serial)
        try session.write(.purchase, [UInt8](repeating: 0, count: CardFile.purchase.size), keys: keys)
    }
}
