import STSCrypto
import STSMeter
import STSTestFixtures
import STSTokenFormat
import STSVending
import Testing

/// Test meters built from the fixture's inputs.
extension Int128 {
    func power(_ n: Int) -> Int128 { (0..<n).reduce(1) { r, _ in r * self } }
}

enum TestMeters {
    static func parameters(_ i: [String: JSONValue]) throws -> DecoderKeyParameters {
        DecoderKeyParameters(
            derivation: try KeyDerivationAlgorithm(code: i["dkga"]!.int!), pan: try MeterPAN(i["meter_pan"]!.string!),
            supplyGroup: try SupplyGroupCode(i["sgc"]!.string!), tariffIndex: try TariffIndex(i["ti"]!.int!),
            revision: try KeyRevisionNumber(i["krn"]!.int!), keyType: try KeyType(i["key_type"]!.int!),
            baseDate: try BaseDate(year: i["base_date"]!.int!), encryption: try EncryptionAlgorithm(code: i["ea"]!.int!))
    }

    /// A meter for a vector: derived from the vending key, or holding the raw decoder key.
    static func state(_ i: [String: JSONValue], policy: MeterPolicy = MeterPolicy()) throws -> MeterState {
        if let vk = i["vending_key"]?.string {
            return try MeterState(keyParameters: parameters(i), expiry: KeyExpiryNumber(255), vendingKey: VendingKey(hex: vk), policy: policy)
        }
        let p = DecoderKeyParameters(
            derivation: .dkga02, pan: try MeterPAN(i["meter_pan"]?.string ?? "600727000000000009"), supplyGroup: try SupplyGroupCode("000000"),
            tariffIndex: try TariffIndex(1), revision: try KeyRevisionNumber(1), keyType: .unique, baseDate: .y1993,
            encryption: try EncryptionAlgorithm(code: i["ea"]!.int!))
        return MeterState(keyParameters: p, expiry: try KeyExpiryNumber(255), decoderKey: try DecoderKey(hex: i["decoder_key"]!.string!), policy: policy)
    }

    static let now: Int64 = 1_800_000_000
}

struct MeterVectorTests {
    @Test("every public credit, management and test token is accepted and applied as built", arguments: PublicVectors.kind("token"))
    func apply(_ v: PublicVector) throws {
        let i = v.inputs
        // Registers large enough for the biggest public currency amounts, and funded so that the
        // public debit tokens apply (the range and overflow rules have their own tests).
        var policy = MeterPolicy()
        policy.maximumCurrencyCredit = Int128(10).power(36)
        let funded: Int128 = Int128(10).power(30)
        var state: MeterState
        if i["class"]!.int! == 1 {
            // Subclass 0 tokens are for 2-digit manufacturer codes (11-digit DRNs), subclass 1 for
            // 4-digit codes (13-digit DRNs); the vectors use manufacturer code 0.
            let pan = i["subclass"]!.int! == 0 ? "600727000000000009" : "000000000000000000"
            state = try TestMeters.state(["decoder_key": .string("0000000000000000"), "ea": .int(7), "meter_pan": .string(pan)], policy: policy)
        } else {
            state = try TestMeters.state(i, policy: policy)
        }
        for k in CreditKind.allCases where k.isCurrency { state.registers[k] = funded }
        var meter = MeterDecoder(state: state)
        let outcome = meter.enter(v.expected["token"]!.string!, at: TestMeters.now)
        #expect(outcome.result == .accept, "\(v.id): \(outcome.result)")
        let r = meter.state.registers
        switch outcome.content {
        case let .transferCredit(c)?:
            #expect(Int(c.amount.field) == v.intermediate["amount_field"]!.int!)
            #expect(r[c.kind] == Int128(c.amount.units))
            #expect(meter.state.tidMemory.tids == [c.tid.value])
        case let .currencyCredit(c)?:
            #expect(r[c.kind] == funded + c.amount.units)
        case let .management(m)?:
            #expect(Int(m.value) == i["value16"]!.int!)
            switch m.function {
            case .setMaximumPowerLimit: #expect(r.maximumPowerLimit == TransferAmount(field: m.value).units)
            case .setMaximumPhasePowerUnbalanceLimit: #expect(r.phaseUnbalanceLimit == TransferAmount(field: m.value).units)
            case .clearTamperCondition: #expect(!r.tamper)
            default: break
            }
        case let .meterTest(t)?:
            #expect(Int(t.control) == i["control"]!.int!)
        default:
            Issue.record("\(v.id): nothing decoded")
        }
    }

    @Test("currency past the register maximum is refused with overflow")
    func currencyOverflow() throws {
        let v = try #require(PublicVectors.all.first { $0.id == "CS07-CTSA20-9" })
        var meter = MeterDecoder(state: try TestMeters.state(v.inputs))
        let before = meter.state
        #expect(meter.enter(v.expected["token"]!.string!, at: TestMeters.now).result == .overflow)
        #expect(meter.state == before)
    }

    @Test("negative currency tokens are refused with range on an empty register, accepted on a funded one")
    func negativeCurrency() throws {
        let v = try #require(PublicVectors.all.first { $0.id == "CS07-CTSA20-10" })
        var meter = MeterDecoder(state: try TestMeters.state(v.inputs))
        let before = meter.state
        #expect(meter.enter(v.expected["token"]!.string!, at: TestMeters.now).result == .range)
        #expect(meter.state == before, "a refused token changes nothing")
        meter.state.registers[.electricityCurrency] = 10_000_000
        #expect(meter.enter(v.expected["token"]!.string!, at: TestMeters.now).result == .accept)
        #expect(meter.state.registers[.electricityCurrency] == 10_000_000 - 99_994)
    }

    /// The orders to enter a set in: all permutations.
    static func permutations(_ n: Int) -> [[Int]] {
        guard n > 1 else { return [[0]] }
        return permutations(n - 1).flatMap { p in (0...p.count).map { at in var q = p; q.insert(n - 1, at: at); return q } }
    }

    @Test("every public key-change set installs the vector's new key, in every order", arguments: PublicVectors.kind("key_change"))
    func keyChange(_ v: PublicVector) throws {
        let i = v.inputs
        let tokens = v.expected["tokens"]!.array!.map { $0.string! }
        let newKey = try DecoderKey(hex: v.intermediate["new_decoder_key"]!.string!)
        for order in Self.permutations(tokens.count) {
            var meter = MeterDecoder(state: try TestMeters.state(i["old"]!.object!))
            let oldBaseDate = meter.state.key.baseDate
            meter.state.tidMemory.remember(12_345)
            var changed = 0
            for (n, index) in order.enumerated() {
                let outcome = meter.enter(tokens[index], at: TestMeters.now + Int64(n))
                #expect(outcome.result.isAccepted)
                #expect(outcome.keyChanged == (n == tokens.count - 1), "installs only when complete")
                if outcome.keyChanged { changed += 1 }
            }
            #expect(changed == 1)
            let k = meter.state.key
            #expect(k.decoderKey == newKey, "\(v.id) \(order)")
            #expect(Int(k.revision) == i["krn"]!.int! && Int(k.keyType.rawValue) == i["key_type"]!.int!)
            #expect(Int(k.tariffIndex) == i["ti"]!.int! && Int(k.expiry.value) == i["ken"]!.int!)
            if let sgc = i["sgc"]?.int, tokens.count > 2 { #expect(Int(k.supplyGroup.value) == sgc) }
            if i["ro"]!.int! == 1 {
                #expect(meter.state.tidMemory.tids.isEmpty && k.baseDate.year > oldBaseDate.year)
            } else {
                #expect(meter.state.tidMemory.tids == [12_345] && k.baseDate == oldBaseDate)
            }
            #expect(meter.state.pendingKeyChange == nil)
        }
    }
}
