import STSCrypto
import STSTokenFormat
import STSVending
import Testing

/// The vending rules and every refusal path, plus random round trips per algorithm.
struct VendingRuleTests {
    static let vk8 = try! VendingKey(hex: "ABABABABABABABAB")
    static let vk20 = try! VendingKey(hex: "ABABABABABABABAB949494949494949401234567")

    static func meter(dkga: KeyDerivationAlgorithm = .dkga02, ea: EncryptionAlgorithm = .sta, baseDate: BaseDate = .y1993,
                      ken: Int = 255, pan: String = "600727000000000009") -> MeterProfile {
        try! MeterProfile(pan: MeterPAN(pan), supplyGroup: SupplyGroupCode("123456"), tariffIndex: TariffIndex(1),
                          revision: KeyRevisionNumber(1), keyType: .unique, expiry: KeyExpiryNumber(ken), baseDate: baseDate,
                          derivation: dkga, encryption: ea)
    }

    static let algorithms: [(String, MeterProfile, VendingKey)] = [
        ("DKGA02+EA07", meter(), vk8),
        ("DKGA04+EA07", meter(dkga: .dkga04, baseDate: .y2014), vk20),
        ("DKGA04+EA11", meter(dkga: .dkga04, ea: .misty1, baseDate: .y2014), vk20),
        ("DKGA02+EA09 (unverified, allowed explicitly)", meter(ea: .dea), vk8),
    ]

    @Test("random tokens round-trip: issue → decode gives the same fields (100 000 per algorithm)",
          arguments: algorithms.map(\.0))
    func roundTrip(_ name: String) throws {
        let (_, meter, key) = Self.algorithms.first { $0.0 == name }!
        let issuer = try TokenIssuer(meter: meter, vendingKey: key, allowUnverified: true)
        let decoder = try TokenDecoder(meter: meter, vendingKey: key, allowUnverified: true)
        var rng = SystemRandomNumberGenerator()
        var checked = 0
        for _ in 0..<100_000 {
            var tid = UInt32.random(in: 0...TokenIdentifier.maximum, using: &rng)
            if tid % 1440 == 1 { tid += 1 }
            let kind = CreditKind(rawValue: UInt8.random(in: 0...7, using: &rng))!
            let issued: IssuedToken
            if kind.isCurrency {
                var units = Int128(Int64.random(in: -10_000_000_000...10_000_000_000, using: &rng))
                if units == 0 { units = 1 }
                issued = try issuer.currencyCredit(kind, units: units, tid: TokenIdentifier(field: tid))
                #expect(issued.encodedCurrencyUnits! >= units)
            } else if Bool.random(using: &rng) {
                let units = UInt64.random(in: 1...TransferAmount.maximumUnits, using: &rng)
                issued = try issuer.credit(kind, units: units, tid: TokenIdentifier(field: tid), rnd: UInt8.random(in: 0...15, using: &rng))
                #expect(issued.encodedUnits! >= units)
            } else {
                let f = ManagementFunction.allCases.randomElement(using: &rng)!
                let value: UInt64 = switch f {
                case .clearCredit: UInt64.random(in: 0...7, using: &rng)
                case .clearTamperCondition: 0
                case .setMaximumPowerLimit, .setMaximumPhasePowerUnbalanceLimit: UInt64.random(in: 0...TransferAmount.maximumUnits, using: &rng)
                default: UInt64.random(in: 0...0xFFFF, using: &rng)
                }
                issued = try issuer.management(f, value: value, tid: TokenIdentifier(field: tid), rnd: UInt8.random(in: 0...15, using: &rng))
            }
            let decoded = try decoder.decode(issued.number.digits)
            #expect(decoded.content == issued.content)
            #expect(decoded.dataBlock == issued.dataBlock)
            checked += 1
        }
        #expect(checked == 100_000)
    }

    @Test("a token decoded with another meter's key fails the CRC check (nearly always)")
    func wrongMeter() throws {
        let a = Self.meter(), b = Self.meter(pan: "600727111111111153")
        let issuer = try TokenIssuer(meter: a, vendingKey: Self.vk8)
        let other = try TokenDecoder(meter: b, vendingKey: Self.vk8)
        var accepted = 0
        for i in 0..<10_000 {
            let t = try issuer.credit(.electricity, units: 100, tid: TokenIdentifier(field: UInt32(2 * i + 2)), rnd: 5)
            if (try? other.decode(t.number)) != nil { accepted += 1 }
        }
        // A random block passes a 16-bit CRC with probability 2^-16 (and needs a known subclass).
        #expect(accepted <= 3)
    }

    @Test("refusals: zero credit, reserved TID, expired key, power limit range, register numbers, wrong kinds")
    func refusals() throws {
        let issuer = try TokenIssuer(meter: Self.meter(ken: 80), vendingKey: Self.vk8)
        let tid = TokenIdentifier(field: 80 << 16)
        #expect(throws: VendingError.zeroCredit) { try issuer.credit(.electricity, units: 0, tid: tid, rnd: 0) }
        #expect(throws: VendingError.zeroCredit) { try issuer.currencyCredit(.gasCurrency, units: 0, tid: tid) }
        #expect(throws: VendingError.reservedTID(1441)) { try issuer.credit(.electricity, units: 1, tid: TokenIdentifier(field: 1441), rnd: 0) }
        #expect(throws: VendingError.keyExpired(tid: 81 << 16, expiry: 80)) {
            try issuer.credit(.electricity, units: 1, tid: TokenIdentifier(field: 81 << 16), rnd: 0)
        }
        #expect(throws: VendingError.keyExpired(tid: 81 << 16, expiry: 80)) {
            try issuer.management(.clearCredit, value: 0xFFFF, tid: TokenIdentifier(field: 81 << 16), rnd: 0)
        }
        _ = try issuer.credit(.electricity, units: 1, tid: TokenIdentifier(field: 80 << 16 | 0xFFFE), rnd: 0)
        #expect(throws: FieldError.self) { try issuer.credit(.water, units: TransferAmount.maximumUnits + 1, tid: tid, rnd: 0) }
        #expect(throws: VendingError.self) { try issuer.management(.setMaximumPowerLimit, value: 18_201_625, tid: tid, rnd: 0) }
        #expect(throws: VendingError.self) { try issuer.management(.clearCredit, value: 8, tid: tid, rnd: 0) }
        #expect(throws: VendingError.self) { try issuer.management(.clearTamperCondition, value: 1, tid: tid, rnd: 0) }
        #expect(throws: VendingError.self) { try issuer.management(.setTariffRate, value: 0x10000, tid: tid, rnd: 0) }
        #expect(throws: VendingError.self) { try issuer.credit(.electricityCurrency, units: 1, tid: tid, rnd: 0) }
        #expect(throws: VendingError.self) { try issuer.currencyCredit(.electricity, units: 1, tid: tid) }
        #expect(throws: FieldError.self) { try TokenIssuer.meterTest(subclass: 0, control: 1 << 36, manufacturerCode: 0) }
        #expect(throws: FieldError.self) { try TokenIssuer.meterTest(subclass: 1, control: 0, manufacturerCode: 10_000) }
        #expect(throws: FieldError.self) { try TokenIssuer.meterTest(subclass: 2, control: 0, manufacturerCode: 0) }
        let watts = try issuer.management(.setMaximumPowerLimit, value: 20_000, tid: tid, rnd: 0)
        #expect(watts.encodedUnits == 20_004)
    }

    @Test("key changes: rollover rules, token counts, new-key expiry, other meter")
    func keyChangeRules() throws {
        let old = Self.meter(dkga: .dkga04, baseDate: .y2014)
        let issuer = try TokenIssuer(meter: old, vendingKey: Self.vk20)
        var later = old
        later.baseDate = .y2035
        #expect(throws: VendingError.self) { try issuer.keyChange(to: later, newVendingKey: Self.vk20, rollover: false) }
        #expect(try issuer.keyChange(to: later, newVendingKey: Self.vk20, rollover: true).count == 2)
        var earlier = old
        earlier.baseDate = .y1993
        #expect(throws: VendingError.self) { try issuer.keyChange(to: earlier, newVendingKey: Self.vk20, rollover: true) }
        var misty = old
        misty.encryption = .misty1
        #expect(throws: VendingError.self, "key-change tokens cannot change the EA") {
            try issuer.keyChange(to: misty, newVendingKey: Self.vk20, rollover: false)
        }
        var mistyNext = misty
        mistyNext.revision = try KeyRevisionNumber(2)
        let mistyIssuer = try TokenIssuer(meter: misty, vendingKey: Self.vk20)
        #expect(try mistyIssuer.keyChange(to: mistyNext, newVendingKey: Self.vk20, rollover: false).count == 4)
        #expect(throws: VendingError.self) { try mistyIssuer.keyChange(to: mistyNext, newVendingKey: Self.vk20, rollover: false, tokenCount: 2) }
        var same = old
        same.revision = try KeyRevisionNumber(2)
        #expect(throws: VendingError.self, "rollover without a base date step") {
            try issuer.keyChange(to: same, newVendingKey: Self.vk20, rollover: true)
        }
        var fromNinetyThree = Self.meter(dkga: .dkga04, baseDate: .y1993)
        fromNinetyThree.baseDate = .y1993
        var toThirtyFive = fromNinetyThree
        toThirtyFive.baseDate = .y2035
        #expect(throws: VendingError.self, "one base-date step at a time") {
            try TokenIssuer(meter: fromNinetyThree, vendingKey: Self.vk20).keyChange(to: toThirtyFive, newVendingKey: Self.vk20, rollover: true)
        }
        #expect(throws: VendingError.self) { try issuer.keyChange(to: old, newVendingKey: Self.vk20, rollover: false, tokenCount: 4) }
        #expect(try issuer.keyChange(to: old, newVendingKey: Self.vk20, rollover: false, tokenCount: 3).count == 3)
        var expiring = old
        expiring.expiry = try KeyExpiryNumber(85)
        #expect(throws: VendingError.newKeyExpired(tid: 151 << 16, expiry: 85)) {
            try issuer.keyChange(to: expiring, newVendingKey: Self.vk20, rollover: false, at: TokenIdentifier(field: 151 << 16))
        }
        var otherMeter = old
        otherMeter.pan = try MeterPAN("600727111111111153")
        #expect(throws: VendingError.self) { try issuer.keyChange(to: otherMeter, newVendingKey: Self.vk20, rollover: false) }
        // Moving away from an expired key is allowed.
        let expired = try TokenIssuer(meter: expiring, vendingKey: Self.vk20)
        #expect(try expired.keyChange(to: old, newVendingKey: Self.vk20, rollover: false, at: TokenIdentifier(field: 151 << 16)).count == 2)
        // A 3-token set decodes its third token as the supply group, and never prints key bits.
        let set = try issuer.keyChange(to: old, newVendingKey: Self.vk20, rollover: false, tokenCount: 3)
        let decoder = try TokenDecoder(meter: old, vendingKey: Self.vk20)
        #expect(try decoder.decode(set[2].number).content == .keyChange(.supplyGroup(old.supplyGroup)))
    }

    @Test("DKGA04 refuses KRN 10–15 (no verified encoding)")
    func dkga04KRN() throws {
        var m = Self.meter(dkga: .dkga04, baseDate: .y2014)
        m.revision = try KeyRevisionNumber(10)
        #expect(throws: KeyError.self) { try TokenIssuer(meter: m, vendingKey: Self.vk20) }
        m.derivation = .dkga02
        _ = try TokenIssuer(meter: m, vendingKey: Self.vk8)
    }

    @Test("TID allocation: minute of issue, skips 00:01, never repeats, strictly increasing")
    func tidAllocation() throws {
        let noon = try CivilTime.parseISO8601("2025-06-01T12:00:30Z")
        let first = try TokenIdentifierAllocator.next(atUnixSeconds: noon, baseDate: .y2014)
        #expect(first == (try TokenIdentifier(atUnixSeconds: noon, baseDate: .y2014)))
        var issued = [first]
        for _ in 0..<5 { issued.append(try TokenIdentifierAllocator.next(atUnixSeconds: noon, baseDate: .y2014, after: issued)) }
        #expect(Set(issued).count == 6)
        #expect(issued == issued.sorted())
        let midnight = try CivilTime.parseISO8601("2025-06-02T00:00:00Z")
        let m0 = try TokenIdentifierAllocator.next(atUnixSeconds: midnight, baseDate: .y2014)
        let m1 = try TokenIdentifierAllocator.next(atUnixSeconds: midnight, baseDate: .y2014, after: [m0])
        #expect(m1.value == m0.value + 2, "00:01 is skipped")
        #expect(!m1.isReserved)
        #expect(throws: VendingError.tidExhausted) {
            try TokenIdentifierAllocator.next(atUnixSeconds: midnight, baseDate: .y2014, after: [TokenIdentifier(field: TokenIdentifier.maximum)])
        }
    }
}
