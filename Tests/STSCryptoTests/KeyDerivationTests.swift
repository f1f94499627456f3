import Testing
import STSCrypto
import STSTokenFormat
import STSTestFixtures

/// DKGA02 and DKGA04 against the decoder keys the public vectors list.
struct KeyDerivationTests {
    static func parameters(_ i: [String: JSONValue]) throws -> DecoderKeyParameters {
        DecoderKeyParameters(
            derivation: try KeyDerivationAlgorithm(code: i["dkga"]!.int!),
            pan: try MeterPAN(i["meter_pan"]!.string!),
            supplyGroup: try SupplyGroupCode(i["sgc"]!.string!),
            tariffIndex: try TariffIndex(i["ti"]!.int!),
            revision: try KeyRevisionNumber(i["krn"]!.int!),
            keyType: try KeyType(i["key_type"]!.int!),
            baseDate: try BaseDate(year: i["base_date"]!.int!),
            encryption: try EncryptionAlgorithm(code: i["ea"]!.int!))
    }

    /// (inputs, expected key) from every vector that names both.
    static let cases: [(String, [String: JSONValue], String)] = {
        var out: [(String, [String: JSONValue], String)] = []
        for v in PublicVectors.all {
            if v.kind == "decoder_key" { out.append((v.id, v.inputs, v.expected["decoder_key"]!.string!)) }
            if v.kind == "token" || v.kind == "decode", v.inputs["vending_key"] != nil, let dk = v.intermediate["decoder_key"]?.string {
                out.append((v.id, v.inputs, dk))
            }
            if v.kind == "key_change", let old = v.inputs["old"]?.object, let new = v.inputs["new"]?.object {
                out.append((v.id + "/old", old, v.intermediate["old_decoder_key"]!.string!))
                out.append((v.id + "/new", new, v.intermediate["new_decoder_key"]!.string!))
            }
        }
        return out
    }()

    @Test("decoder keys of all vectors", arguments: cases.map { $0.0 })
    func derive(_ id: String) throws {
        let (_, inputs, expected) = Self.cases.first { $0.0 == id }!
        let vk = try VendingKey(hex: inputs["vending_key"]!.string!)
        let dk = try DecoderKeyGenerator.derive(Self.parameters(inputs), vendingKey: vk)
        #expect(dk == (try DecoderKey(hex: expected)))
    }

    @Test("there are DKGA02 and DKGA04 (EA07 and EA11) cases among them")
    func coverage() {
        #expect(Self.cases.count > 100)
        #expect(Self.cases.contains { $0.1["dkga"]?.int == 2 })
        #expect(Self.cases.contains { $0.1["dkga"]?.int == 4 && $0.1["ea"]?.int == 11 })
        #expect(Self.cases.contains { $0.1["base_date"]?.int == 2035 })
        #expect(Self.cases.contains { $0.1["meter_pan"]?.string == "000001000000000082" && $0.1["dkga"]?.int == 4 })
    }

    /// The digest's worked example prints the PAN with 19 digits (an extra 0) under a length
    /// byte of 18; the expected bytes here are assembled item by item from the layout instead.
    @Test("the DKGA04 message is the documented label/context layout, byte for byte")
    func dkga04Message() throws {
        let p = DecoderKeyParameters(
            derivation: .dkga04, pan: try MeterPAN("600727000000000009"), supplyGroup: try SupplyGroupCode("201457"),
            tariffIndex: try TariffIndex(1), revision: try KeyRevisionNumber(1), keyType: .unique,
            baseDate: .y2014, encryption: .sta)
        let hex = DKGA04.message(p).map { Hex.encode(UInt64($0), digits: 2) }.joined()
        let item: (String) -> [UInt8] = { [UInt8($0.utf8.count)] + Array($0.utf8) }
        let expected: [UInt8] = [4] + item("04") + item("14") + item("07") + item("01") + [0]
            + [4] + item("201457") + item("2") + item("1") + item("600727000000000009") + [0, 0, 0, 0x40]
        #expect(hex == expected.map { Hex.encode(UInt64($0), digits: 2) }.joined())
        #expect(DKGA04.message(p).count == 49)
    }

    @Test("the DKGA02 blocks match the worked example")
    func dkga02Blocks() throws {
        let p = DecoderKeyParameters(
            derivation: .dkga02, pan: try MeterPAN("600727000000000009"), supplyGroup: try SupplyGroupCode("123456"),
            tariffIndex: try TariffIndex(1), revision: try KeyRevisionNumber(1), keyType: .unique,
            baseDate: .y1993, encryption: .sta)
        #expect(DKGA02.panBlock(p.pan, keyType: .unique) == 0x0072_7000_0000_0000)
        #expect(DKGA02.controlBlock(p) == 0x2123_4560_11FF_FFFF)
    }

    @Test("DKGA01 and DKGA03 are refused; wrong vending key lengths are refused")
    func refusals() throws {
        var p = DecoderKeyParameters(
            derivation: .dkga01, pan: try MeterPAN("600727000000000009"), supplyGroup: try SupplyGroupCode("123456"),
            tariffIndex: try TariffIndex(1), revision: try KeyRevisionNumber(1), keyType: .unique,
            baseDate: .y1993, encryption: .sta)
        let vk8 = try VendingKey(hex: "ABABABABABABABAB")
        #expect(throws: KeyError.unsupportedDerivation(.dkga01)) { try DecoderKeyGenerator.derive(p, vendingKey: vk8) }
        p.derivation = .dkga03
        #expect(throws: KeyError.unsupportedDerivation(.dkga03)) { try DecoderKeyGenerator.derive(p, vendingKey: vk8) }
        p.derivation = .dkga04
        #expect(throws: KeyError.wrongLength(what: "DKGA04 vending key", expectedBits: [160], gotBits: 64)) {
            try DecoderKeyGenerator.derive(p, vendingKey: vk8)
        }
        #expect(throws: KeyError.wrongLength(what: "vending key", expectedBits: [64, 128, 160], gotBits: 168)) {
            try VendingKey(hex: "ABABABABABABABAB94949494949494940123456716")
        }
        #expect(throws: KeyError.notHex(what: "vending key")) { try VendingKey(hex: "not a key") }
    }

    @Test("keys never show themselves in descriptions or dumps")
    func redaction() throws {
        let vk = try VendingKey(hex: "ABABABABABABABAB949494949494949401234567")
        let dk = try DecoderKey(hex: "929BD3A415C9420A05EC5EE9F3CE91C3")
        for text in ["\(vk)", String(reflecting: vk), "\(dk)", String(reflecting: dk), "\([dk])"] {
            #expect(!text.uppercased().contains("ABAB"))
            #expect(!text.uppercased().contains("929B"))
            #expect(text.contains("redacted"))
        }
        var dumped = ""
        dump(dk, to: &dumped)
        #expect(!dumped.contains("929") && !dumped.lowercased().contains("first"))
    }
}
