import STSCrypto
import STSMeter
import STSTokenFormat
import STSVending
import Testing

/// Every result code, the lockout, key changes and the replay properties.
struct MeterRuleTests {
    static let vk = try! VendingKey(hex: "ABABABABABABABAB949494949494949401234567")

    static func profile(ea: EncryptionAlgorithm = .sta, kt: KeyType = .unique, ken: Int = 255,
                        pan: String = "600727000000000009") -> MeterProfile {
        try! MeterProfile(pan: MeterPAN(pan), supplyGroup: SupplyGroupCode("201457"), tariffIndex: TariffIndex(1),
                          revision: KeyRevisionNumber(1), keyType: kt, expiry: KeyExpiryNumber(ken), baseDate: .y2014,
                          derivation: .dkga04, encryption: ea)
    }

    static func meter(_ p: MeterProfile, policy: MeterPolicy = MeterPolicy()) throws -> MeterDecoder {
        MeterDecoder(state: try MeterState(keyParameters: p.keyParameters, expiry: p.expiry, vendingKey: vk, policy: policy))
    }

    static func issuer(_ p: MeterProfile) throws -> TokenIssuer { try TokenIssuer(meter: p, vendingKey: vk) }

    static func credit(_ p: MeterProfile, tid: UInt32, units: UInt64 = 10, kind: CreditKind = .electricity) throws -> String {
        try issuer(p).credit(kind, units: units, tid: TokenIdentifier(field: tid), rnd: 3).number.digits
    }

    let now: Int64 = 1_800_000_000

    @Test("accept, then used on replay; a refused token changes nothing")
    func usedAndUnchanged() throws {
        let p = Self.profile()
        var m = try Self.meter(p)
        let t = try Self.credit(p, tid: 1000)
        #expect(m.enter(t, at: now).result == .accept)
        #expect(m.state.registers[.electricity] == 10)
        let after = m.state
        #expect(m.enter(t, at: now).result == .used)
        #expect(m.state == after)
    }

    @Test("old: once the TID memory is full, older TIDs are refused; the oldest is dropped")
    func oldTIDs() throws {
        let p = Self.profile()
        var policy = MeterPolicy()
        policy.tidMemoryDepth = 5
        var m = try Self.meter(p, policy: policy)
        #expect(m.enter(try Self.credit(p, tid: 500), at: now).result == .accept, "memory not full: an older TID is fine")
        for tid in stride(from: 1000, to: 1008, by: 2) { #expect(m.enter(try Self.credit(p, tid: UInt32(tid)), at: now).result == .accept) }
        #expect(m.state.tidMemory.tids == [500, 1000, 1002, 1004, 1006])
        #expect(m.enter(try Self.credit(p, tid: 400), at: now).result == .old)
        #expect(m.enter(try Self.credit(p, tid: 1003), at: now).result == .accept, "newer than the oldest, not in memory")
        #expect(m.state.tidMemory.tids == [1000, 1002, 1003, 1004, 1006])
        #expect(m.enter(try Self.credit(p, tid: 500), at: now).result == .old, "dropped from memory: now OLD")
    }

    @Test("crc, format and function")
    func unreadable() throws {
        let p = Self.profile()
        var m = try Self.meter(p)
        let other = Self.profile(pan: "600727111111111153")
        #expect(m.enter(try Self.credit(other, tid: 1000), at: now).result == .crc)
        #expect(m.enter("1234", at: now).result == .format)
        m = try Self.meter(p)
        #expect(m.enter("73786976294838206464", at: now).result == .format)
        #expect(m.enter("73786976294838206463", at: now).result == .format, "class 3")
        m = try Self.meter(p)
        // A class 0 subclass 8 block with a valid CRC under this meter's key.
        let cipher = try TokenCipher(key: m.state.key.decoderKey, algorithm: .sta)
        let block = DataBlock(tokenClass: .transferCredit, subclass: 8, payload: 0x5_0003_E8_000A)
        let token = TokenNumber(block: cipher.encrypt(block.rawValue), tokenClass: .transferCredit)
        #expect(m.enter(token, at: now).result == .function)
    }

    @Test("overflow, key expired, ddtk, tamper, manufacturer code")
    func refusals() throws {
        let p = Self.profile()
        var m = try Self.meter(p)
        m.state.registers[.electricity] = m.state.policy.maximumUnitCredit - 5
        #expect(m.enter(try Self.credit(p, tid: 1000, units: 10), at: now).result == .overflow)
        #expect(m.enter(try Self.credit(p, tid: 1002, units: 5), at: now).result == .accept)

        let expiring = Self.profile(ken: 80)
        var e = try Self.meter(expiring)
        let late = try TokenIssuer(meter: Self.profile(), vendingKey: Self.vk)  // same key, issued without the expiry check
            .credit(.electricity, units: 1, tid: TokenIdentifier(field: 81 << 16), rnd: 0).number.digits
        #expect(e.enter(late, at: now).result == .keyExpired)

        let ddtk = Self.profile(kt: .default)
        var d = try Self.meter(ddtk)
        #expect(d.enter(try Self.credit(ddtk, tid: 1000), at: now).result == .ddtk)
        let mpl = try Self.issuer(ddtk).management(.setMaximumPowerLimit, value: 5000, tid: TokenIdentifier(field: 1002), rnd: 0)
        #expect(d.enter(mpl.number, at: now).result == .accept, "management works under a default key")

        var t = try Self.meter(p)
        t.state.registers.tamper = true
        #expect(t.enter(try Self.credit(p, tid: 1000), at: now).result == .tamper)
        let clear = try Self.issuer(p).management(.clearTamperCondition, value: 0, tid: TokenIdentifier(field: 1002), rnd: 0)
        #expect(t.enter(clear.number, at: now).result == .accept)
        #expect(t.enter(try Self.credit(p, tid: 1004), at: now).result == .accept)

        let wideCode = try TokenIssuer.meterTest(subclass: 1, control: 1, manufacturerCode: 0)
        #expect(t.enter(wideCode.number, at: now).result == .manufacturerCode, "4-digit-code tokens are for 13-digit DRN meters")
        let garbledTest = TokenNumber(block: try TokenIssuer.meterTest(subclass: 0, control: 1, manufacturerCode: 0).dataBlock.rawValue ^ 1,
                                      tokenClass: .meterTest)
        #expect(t.enter(garbledTest, at: now).result == .crc)
        let otherMaker = try TokenIssuer.meterTest(subclass: 0, control: 1, manufacturerCode: 42)
        #expect(t.enter(otherMaker.number, at: now).result == .manufacturerCode)
        let ours = try TokenIssuer.meterTest(subclass: 0, control: 1, manufacturerCode: 0)
        #expect(t.enter(ours.number, at: now).result == .accept)
    }

    @Test("management tokens set registers; clear credit clears one register or all")
    func management() throws {
        let p = Self.profile()
        var m = try Self.meter(p)
        let i = try Self.issuer(p)
        _ = m.enter(try Self.credit(p, tid: 1000, units: 100), at: now)
        _ = m.enter(try Self.credit(p, tid: 1002, units: 50, kind: .water), at: now)
        func enter(_ f: ManagementFunction, _ v: UInt64, _ tid: UInt32) -> TokenResult {
            m.enter(try! i.management(f, value: v, tid: TokenIdentifier(field: tid), rnd: 1).number, at: now).result
        }
        #expect(enter(.setMaximumPowerLimit, 20_000, 1004) == .accept && m.state.registers.maximumPowerLimit == 20_004)
        #expect(enter(.setMaximumPhasePowerUnbalanceLimit, 300, 1006) == .accept && m.state.registers.phaseUnbalanceLimit == 300)
        #expect(enter(.setTariffRate, 1234, 1008) == .accept && m.state.registers.tariffRate == 1234)
        #expect(enter(.setWaterMeterFactor, 77, 1010) == .accept && m.state.registers.waterMeterFactor == 77)
        #expect(enter(.clearCredit, 1, 1012) == .accept && m.state.registers[.water] == 0 && m.state.registers[.electricity] == 100)
        #expect(enter(.clearCredit, 0xFFFF, 1014) == .accept && m.state.registers[.electricity] == 0)
    }

    @Test("lockout: 3 wrong entries lock for 10 s, doubling to 1280 s; class 1 still works; acceptance resets")
    func lockout() throws {
        let p = Self.profile()
        var m = try Self.meter(p)
        var t = now
        for _ in 0..<2 { #expect(m.enter("0000", at: t).result == .format) }
        #expect(!m.state.lockout.isLocked(at: t))
        #expect(m.enter("0000", at: t).result == .format)
        #expect(m.state.lockout.isLocked(at: t) && m.state.lockout.lockedUntil == t + 10)
        let good = try Self.credit(p, tid: 1000)
        #expect(m.enter(good, at: t + 5).result == .lockout, "meter-specific tokens wait")
        #expect(m.enter(try TokenIssuer.meterTest(subclass: 0, control: 1, manufacturerCode: 0).number, at: t + 5).result == .accept)
        var expected: Int64 = 10
        for _ in 0..<10 {
            t = m.state.lockout.lockedUntil
            #expect(m.enter("0000", at: t).result == .format)
            expected = min(expected * 2, 1280)
            #expect(m.state.lockout.lockedUntil == t + expected)
        }
        #expect(expected == 1280)
        t = m.state.lockout.lockedUntil
        #expect(m.enter(good, at: t).result == .accept)
        #expect(m.state.lockout == LockoutState(), "an accepted token resets the counters")
    }

    @Test("key change: incomplete sets change nothing, the window expires, new key works, old tokens fail")
    func keyChange() throws {
        let p = Self.profile()
        var m = try Self.meter(p)
        var next = p
        next.revision = try KeyRevisionNumber(2)
        let set = try Self.issuer(p).keyChange(to: next, newVendingKey: Self.vk, rollover: false)
        let oldKey = m.state.key
        #expect(m.enter(set[0].number, at: now).result == .firstKeyChangeToken)
        #expect(m.state.key == oldKey)
        // The second token after the window starts a new set: still incomplete.
        #expect(m.enter(set[1].number, at: now + 601).result == .secondKeyChangeToken)
        #expect(m.state.key == oldKey)
        let done = m.enter(set[0].number, at: now + 602)
        #expect(done.result == .firstKeyChangeToken && done.keyChanged)
        #expect(m.state.key.decoderKey == (try next.decoderKey(vendingKey: Self.vk)) && m.state.key.revision == 2)
        #expect(m.enter(try Self.credit(next, tid: 2000), at: now).result == .accept)
        #expect(m.enter(try Self.credit(p, tid: 2002), at: now).result == .crc, "tokens under the old key fail")

        // A set installing key type 0 (DITK) is refused and nothing changes.
        var ditk = next
        ditk.keyType = .initialisation
        ditk.revision = try KeyRevisionNumber(3)
        let bad = try Self.issuer(next).keyChange(to: ditk, newVendingKey: Self.vk, rollover: false)
        let before = m.state.key
        #expect(m.enter(bad[0].number, at: now).result == .firstKeyChangeToken)
        #expect(m.enter(bad[1].number, at: now).result == .keyType)
        #expect(m.state.key == before && m.state.pendingKeyChange == nil)
    }

    @Test("rollover: TID memory cleared, base date moves, old TIDs usable under the new key")
    func rollover() throws {
        var p = Self.profile()
        p.baseDate = .y1993
        p.derivation = .dkga04
        var m = try Self.meter(p)
        #expect(m.enter(try Self.credit(p, tid: 16_000_000), at: now).result == .accept)
        var next = p
        next.baseDate = .y2014
        next.revision = try KeyRevisionNumber(2)
        for t in try Self.issuer(p).keyChange(to: next, newVendingKey: Self.vk, rollover: true) { _ = m.enter(t.number, at: now) }
        #expect(m.state.key.baseDate == .y2014 && m.state.tidMemory.tids.isEmpty)
        #expect(m.enter(try Self.credit(next, tid: 1000), at: now).result == .accept)
    }
}

/// The properties the meter must never break, over many random tokens.
struct MeterPropertyTests {
    /// A deterministic generator so a run can be reproduced (SplitMix64).
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("a replayed accepted token is never accepted again (20 000 random tokens, both EAs)", arguments: [EncryptionAlgorithm.sta, .misty1])
    func replay(_ ea: EncryptionAlgorithm) throws {
        let p = MeterRuleTests.profile(ea: ea)
        var m = try MeterRuleTests.meter(p)
        let issuer = try MeterRuleTests.issuer(p)
        var rng = SeededGenerator(state: 7)
        var tokens: [String] = []
        for n in 0..<20_000 {
            let tid = UInt32(2 * n + 2)
            let t = try issuer.credit(CreditKind(rawValue: UInt8.random(in: 0...3, using: &rng))!, units: UInt64.random(in: 1...1000, using: &rng),
                                      tid: TokenIdentifier(field: tid), rnd: UInt8.random(in: 0...15, using: &rng)).number.digits
            #expect(m.enter(t, at: 0).result == .accept)
            tokens.append(t)
            if n % 7 == 0 { #expect(!m.enter(tokens.randomElement(using: &rng)!, at: 0).result.isAccepted) }
        }
        for t in tokens.suffix(50) { #expect(m.enter(t, at: 0).result == .used, "still in the 50-deep memory") }
        for t in tokens.prefix(100) { #expect(m.enter(t, at: 0).result == .old) }
    }

    @Test("a token for another meter is never accepted (5 000 tokens, fixed seed)")
    func otherMeter() throws {
        let a = MeterRuleTests.profile(), b = MeterRuleTests.profile(pan: "600727111111111153")
        var m = try MeterRuleTests.meter(b)
        let issuer = try MeterRuleTests.issuer(a)
        var accepted = 0
        for n in 0..<5_000 {
            let t = try issuer.credit(.electricity, units: 100, tid: TokenIdentifier(field: UInt32(2 * n + 2)), rnd: UInt8(n & 15))
            m.state.lockout = LockoutState()
            if m.enter(t.number, at: 0).result.isAccepted { accepted += 1 }
        }
        #expect(accepted == 0)
    }

    @Test("random 20-digit input never crashes and is accepted no more often than the CRC allows (200 000, fixed seed)")
    func randomInput() throws {
        var m = try MeterRuleTests.meter(MeterRuleTests.profile())
        var rng = SeededGenerator(state: 42)
        var accepted = 0
        let count = 200_000
        for _ in 0..<count {
            let digits = String((0..<20).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            m.state.lockout = LockoutState()
            if m.enter(digits, at: 0).result.isAccepted { accepted += 1 }
        }
        // A random block passes a 16-bit CRC with probability 2^-16: about 3 in 200 000.
        #expect(Double(accepted) <= 3 * Double(count) / 65_536 + 3)
    }
}
