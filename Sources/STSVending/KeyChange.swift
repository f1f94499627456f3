import STSCrypto
import STSTokenFormat

extension TokenIssuer {
    /// The key-change token set that moves the meter from its current key to `new`.
    ///
    /// All tokens are encrypted with the current decoder key. A 64-bit new key takes 2 tokens,
    /// or 3 when `tokenCount` is 3 (the third loads the new SGC); a 128-bit new key takes 4.
    /// `rollover` sets the RO bit, which makes the meter clear its TID memory and move to the
    /// next base date: it is set exactly when the base date moves one step forward
    /// (1993 → 2014 → 2035). The key length cannot change (key-change tokens do not tell the
    /// meter a new EA), nor can the algorithm. When `at` is given (a TID on the new key's base date; earlier times
    /// count as TID 0), a new key already expired then is refused; an expired current key is
    /// no obstacle (moving away from it is the point).
    public func keyChange(to new: MeterProfile, newVendingKey: VendingKey, rollover: Bool,
                          tokenCount: Int? = nil, at tid: TokenIdentifier? = nil) throws -> [IssuedToken] {
        guard new.pan == meter.pan else {
            throw VendingError.invalidKeyChange("the new key is for meter \(new.pan), not \(meter.pan)")
        }
        if new.baseDate.year < meter.baseDate.year {
            throw VendingError.invalidKeyChange("the base date cannot move back from \(meter.baseDate) to \(new.baseDate)")
        }
        let nextBaseDate: BaseDate? = switch meter.baseDate {
        case .y1993: .y2014
        case .y2014: .y2035
        case .y2035: nil
        }
        if new.baseDate != meter.baseDate && new.baseDate != nextBaseDate {
            throw VendingError.invalidKeyChange("the base date moves one step at a time (\(meter.baseDate) → \(nextBaseDate.map { "\($0)" } ?? "none")), not to \(new.baseDate)")
        }
        if new.baseDate != meter.baseDate && !rollover {
            throw VendingError.invalidKeyChange("moving the base date from \(meter.baseDate) to \(new.baseDate) needs the rollover bit (the meter must clear its TID memory)")
        }
        if new.baseDate == meter.baseDate && rollover {
            throw VendingError.invalidKeyChange("the rollover bit moves the meter to the next base date; the new key keeps \(meter.baseDate)")
        }
        if new.encryption != meter.encryption {
            throw VendingError.invalidKeyChange("a key change cannot change the encryption algorithm (EA\(meter.encryption) → EA\(new.encryption)): key-change tokens do not carry the EA")
        }
        if let tid, !new.expiry.permits(tid) {
            throw VendingError.newKeyExpired(tid: tid.value, expiry: new.expiry.value)
        }
        let newKey = try new.decoderKey(vendingKey: newVendingKey)
        let count = tokenCount ?? (newKey.bitCount == 128 ? 4 : 2)
        switch (newKey.bitCount, count) {
        case (64, 2), (64, 3), (128, 4): break
        default:
            throw VendingError.invalidKeyChange("a \(newKey.bitCount)-bit key (EA\(new.encryption)) is sent in \(newKey.bitCount == 128 ? "4" : "2 or 3") tokens, not \(count)")
        }
        var bytes = newKey.revealBytes()
        defer { wipe(&bytes) }
        func word(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[at + $1]) } }
        let sgc = new.supplyGroup.value
        var sections: [KeyChangeSection] = [
            .first(kenHigh: new.expiry.highNibble, krn: new.revision.value, rollover: rollover,
                   threeTokenSet: count == 3, keyType: new.keyType.rawValue, keyHigh: word(0)),
        ]
        if count == 4 {
            sections.append(.second(kenLow: new.expiry.lowNibble, tariffIndex: new.tariffIndex.value, keyLow: word(12)))
            sections.append(.third(sgcLow: UInt16(sgc & 0xFFF), keyMiddle2: word(4)))
            sections.append(.fourth(sgcHigh: UInt16(sgc >> 12 & 0xFFF), keyMiddle1: word(8)))
        } else {
            sections.append(.second(kenLow: new.expiry.lowNibble, tariffIndex: new.tariffIndex.value, keyLow: word(4)))
            if count == 3 { sections.append(.supplyGroup(new.supplyGroup)) }
        }
        return sections.map { seal(.keyChange($0)) }
    }
}
