import STSTestFixtures
import STSTokenFormat
import Testing

struct EncodingTests {
    @Test("CRC-16 vectors", arguments: PublicVectors.kind("crc16"))
    func crc(_ v: PublicVector) throws {
        let hex = v.inputs["bytes"]!.string!
        let value = UInt64(hex, radix: 16)!
        #expect(Hex.encode(UInt64(CRC16.field(for: value)), digits: 4) == v.expected["crc"]!.string!)
        let bytes = try #require(Hex.decode(hex))
        #expect(CRC16.modbus(bytes).byteSwapped == CRC16.field(for: value))
    }

    @Test("transfer amount: the published boundaries and rounding up")
    func transferAmount() throws {
        let cases: [(UInt64, UInt64)] = [  // asked → encoded
            (1, 1), (16_383, 16_383), (16_384, 16_384), (16_385, 16_394), (20_000, 20_004), (180_214, 180_214),
            (180_215, 180_224), (180_223, 180_224), (180_224, 180_224), (1_818_524, 1_818_524), (1_818_525, 1_818_624),
            (1_818_623, 1_818_624), (1_818_624, 1_818_624), (18_201_624, 18_201_624), (18_201_623, 18_201_624),
        ]
        for (asked, encoded) in cases {
            let a = try TransferAmount(roundingUp: asked)
            #expect(a.units == encoded, "\(asked)")
            #expect(a.units >= asked)
        }
        #expect(try TransferAmount(roundingUp: 18_201_624).field == 0xFFFF)
        #expect(try TransferAmount(roundingUp: 180_224).field == 0x8000)
        #expect(throws: FieldError.self) { try TransferAmount(roundingUp: 18_201_625) }
        // Every field value decodes to a value that encodes back to the same field.
        for field in 0...UInt16.max {
            let units = TransferAmount(field: field).units
            #expect(try TransferAmount(roundingUp: units).field == field)
        }
    }

    @Test("currency amount: exponent split, sign, rounding of the signed value up")
    func currencyAmount() throws {
        let one = try CurrencyAmount(roundingUp: 100_000)
        // 1.00000: e = 1, m = ceil((100 000 − 16 384) / 10) = 8 362 → 8 362·10 + 16 384 = 100 004.
        #expect(one.field == 24_746 && one.signAndExponent == 0 && one.units == 100_004)
        // −1.00000: the magnitude rounds down, m = floor(83 616 / 10) = 8 361 → −99 994.
        let minus = try CurrencyAmount(roundingUp: -100_000)
        #expect(minus.isNegative && minus.signAndExponent == 8 && minus.units == -99_994)
        let big = CurrencyAmount(field: 0, signAndExponent: 4)  // e = 16, m = 0 (CS CTSA20 decode vector)
        #expect(big.exponent == 16)
        #expect(big.magnitude == 18_204_444_444_444_442_624)
        #expect(throws: FieldError.self) { try CurrencyAmount(roundingUp: Int128(CurrencyAmount.maximumMagnitude) + 1) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let v = Int128(Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &rng))
            guard v != 0 else { continue }
            let a = try CurrencyAmount(roundingUp: v)
            #expect(a.units >= v, "rounds the signed value up: \(v) → \(a.units)")
            #expect(try CurrencyAmount(roundingUp: a.units) == a, "representable values are exact")
        }
    }

    @Test("decimal amounts are exact and round up")
    func decimals() throws {
        #expect(try DecimalQuantity.units("12.34", scale: 1) == 124)
        #expect(try DecimalQuantity.units("0.3", scale: 1) == 3)
        #expect(try DecimalQuantity.units("-1.000001", scale: 5) == -100_000)
        #expect(try DecimalQuantity.units("1.000001", scale: 5) == 100_001)
        #expect(DecimalQuantity.format(-180_062_400, scale: 5) == "-1800.624")
        for bad in ["", "-", "1.2.3", "1e5", "ten", "1,5"] {
            #expect(throws: FieldError.self) { try DecimalQuantity.units(bad, scale: 1) }
        }
    }

    @Test("66-bit token numbers: transposition and 20-digit codec round-trip (200 000 random)")
    func tokenNumbers() throws {
        #expect(try TokenNumber("18446744073709551616") == TokenNumber(high: 1, low: 0))
        #expect(try TokenNumber("73786976294838206463") == TokenNumber(high: 3, low: .max))
        #expect(throws: TokenDecodingError.format("73786976294838206464")) { try TokenNumber("73786976294838206464") }
        #expect(throws: TokenDecodingError.format("1234")) { try TokenNumber("1234") }
        #expect(throws: TokenDecodingError.self) { try TokenNumber("7063 0503 4700 2872 611x") }
        #expect(try TokenNumber("7063 0503 4700 2872 6114").grouped == "7063 0503 4700 2872 6114")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200_000 {
            let block = rng.next() as UInt64
            let cls = TokenClass(rawValue: UInt8.random(in: 0...3, using: &rng))!
            let n = TokenNumber(block: block, tokenClass: cls)
            #expect(n.tokenClass == cls && n.block == block)
            #expect(try TokenNumber(n.digits) == n)
        }
        // The worked example: ciphertext D431F4B09E0E9F62, class 0 → 70630503470028726114.
        #expect(TokenNumber(block: 0xD431_F4B0_9E0E_9F62, tokenClass: .transferCredit).digits == "70630503470028726114")
    }

    @Test("data blocks: CRC covers the class; unknown subclasses are refused")
    func blocks() throws {
        let block = DataBlock(tokenClass: .transferCredit, subclass: 0, payload: 0x5_C02A_5527_10)
        #expect(block.hex == "05C02A5527101970")
        #expect(block.hasValidCRC(tokenClass: .transferCredit))
        #expect(!block.hasValidCRC(tokenClass: .management))
        #expect(throws: TokenDecodingError.crc) { try TokenContent(block: block, tokenClass: .management, keyBits: 64) }
        #expect(throws: TokenDecodingError.crc) { try TokenContent(block: DataBlock(rawValue: block.rawValue ^ 1 << 20), tokenClass: .transferCredit, keyBits: 64) }
        // An undefined subclass whose CRC fails is a CRC error (a mistyped token), not "unknown".
        let garbled = DataBlock(rawValue: DataBlock(tokenClass: .transferCredit, subclass: 8, payload: 1).rawValue ^ 0x10000)
        #expect(throws: TokenDecodingError.crc) { try TokenContent(block: garbled, tokenClass: .transferCredit, keyBits: 64) }
        let sub8 = DataBlock(tokenClass: .transferCredit, subclass: 8, payload: 1)
        #expect(throws: TokenDecodingError.unknownSubclass(tokenClass: 0, subclass: 8)) { try TokenContent(block: sub8, tokenClass: .transferCredit, keyBits: 64) }
        let sub10 = DataBlock(tokenClass: .management, subclass: 10, payload: 1)
        #expect(throws: TokenDecodingError.unknownSubclass(tokenClass: 2, subclass: 10)) { try TokenContent(block: sub10, tokenClass: .management, keyBits: 64) }
        let sub2 = DataBlock(tokenClass: .meterTest, subclass: 2, payload: 1)
        #expect(throws: TokenDecodingError.unknownSubclass(tokenClass: 1, subclass: 2)) { try TokenContent(block: sub2, tokenClass: .meterTest, keyBits: 64) }
        #expect(throws: TokenDecodingError.reservedClass) { try TokenContent(block: block, tokenClass: .reserved, keyBits: 64) }
        // A currency block must carry CRC_C, not the plain CRC.
        let plainCRC = DataBlock(tokenClass: .transferCredit, subclass: 4, payload: 1)
        #expect(throws: TokenDecodingError.crc) { try TokenContent(block: plainCRC, tokenClass: .transferCredit, keyBits: 64) }
    }

    @Test("key-change sections round-trip and never print key bits")
    func keyChangeSections() throws {
        let sections: [KeyChangeSection] = [
            .first(kenHigh: 0xA, krn: 4, rollover: true, threeTokenSet: false, keyType: 2, keyHigh: 0xDEAD_BEEF),
            .second(kenLow: 0xA, tariffIndex: 7, keyLow: 0xCAFE_F00D),
            .supplyGroup(try SupplyGroupCode("201461")),
            .third(sgcLow: 0x2F5, keyMiddle2: 0x1234_5678),
            .fourth(sgcHigh: 0x031, keyMiddle1: 0x9ABC_DEF0),
        ]
        for (n, s) in sections.enumerated() {
            let bits = n == 2 ? 64 : 128
            #expect(try TokenContent(block: s.dataBlock, tokenClass: .management, keyBits: bits) == .keyChange(s))
            #expect(!"\(s)".uppercased().contains("DEAD") && !"\(s)".uppercased().contains("CAFE") && !"\(s)".contains("305419896"))
        }
    }
}
