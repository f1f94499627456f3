import STSCrypto
import STSTestFixtures
import STSTokenFormat
import STSVending
import Testing

/// Every public token vector, both ways: inputs → the exact 20 digits, and digits → fields.
struct TokenVectorTests {
    static let tokens = PublicVectors.kind("token")

    @Test("encode: inputs give the published token", arguments: tokens)
    func encode(_ v: PublicVector) throws {
        let i = v.inputs
        let expected = v.expected["token"]!.string!
        let issued: IssuedToken
        switch (i["class"]!.int!, i["subclass"]!.int!) {
        case (1, let sub):
            issued = try TokenIssuer.meterTest(subclass: UInt8(sub), control: UInt64(i["control"]!.int!),
                                               manufacturerCode: UInt16(i["manufacturer_code"]!.int!))
        case (0, let sub) where sub >= 4:
            let units = try DecimalQuantity.units(i["currency_amount"]!.string!, scale: 5)
            issued = try VectorInputs.issuer(i).currencyCredit(CreditKind(rawValue: UInt8(sub))!, units: units, tid: VectorInputs.tid(i))
        case (0, let sub):
            issued = try VectorInputs.issuer(i).credit(CreditKind(rawValue: UInt8(sub))!, units: UInt64(i["amount_units"]!.int!),
                                                       tid: VectorInputs.tid(i), rnd: UInt8(i["rnd"]!.int!))
            // Amounts between two representable values are rounded up; the vector lists the field.
            let asked = UInt64(i["amount_units"]!.int!)
            let field = UInt16(v.intermediate["amount_field"]!.int!)
            #expect(issued.encodedUnits == TransferAmount(field: field).units)
            #expect(issued.encodedUnits! >= asked)
        case (2, let sub):
            let function = ManagementFunction(rawValue: UInt8(sub))!
            let raw = UInt16(i["value16"]!.int!)
            // Power limits are given to the API in watts; the vector lists the encoded field.
            let value = function.isPowerLimit ? TransferAmount(field: raw).units : UInt64(raw)
            issued = try VectorInputs.issuer(i).management(function, value: value, tid: VectorInputs.tid(i), rnd: UInt8(i["rnd"]!.int!))
        default:
            Issue.record("unexpected vector shape \(v.id)")
            return
        }
        #expect(issued.number.digits == expected)
        if let block = v.intermediate["data_block_hex"]?.string { #expect(issued.dataBlock.hex == block) }
        if let tid = v.intermediate["tid"]?.int { #expect(issued.content.tid?.value == UInt32(tid)) }
    }

    @Test("decode: the published token gives back its fields", arguments: tokens)
    func decode(_ v: PublicVector) throws {
        let i = v.inputs
        let number = try TokenNumber(v.expected["token"]!.string!)
        let decoded = i["class"]!.int! == 1 ? try TokenDecoder.decodeMeterTest(number) : try VectorInputs.decoder(i).decode(number)
        #expect(Int(decoded.tokenClass.rawValue) == i["class"]!.int!)
        #expect(Int(decoded.subclass) == i["subclass"]!.int!)
        if let block = v.intermediate["data_block_hex"]?.string { #expect(decoded.dataBlock.hex == block) }
        switch decoded.content {
        case let .transferCredit(c):
            #expect(Int(c.amount.field) == v.intermediate["amount_field"]!.int!)
            #expect(c.amount.units >= UInt64(i["amount_units"]!.int!))
            #expect(Int(c.rnd) == i["rnd"]!.int!)
            #expect(c.tid == (try VectorInputs.tid(i)))
        case let .currencyCredit(c):
            #expect(c.tid == (try VectorInputs.tid(i)))
            let asked = try DecimalQuantity.units(i["currency_amount"]!.string!, scale: 5)
            // The encoded amount is the asked one rounded up (signed) to a representable value.
            #expect(c.amount.units >= asked)
            #expect(c.amount == (try CurrencyAmount(roundingUp: asked)))
        case let .management(m):
            #expect(Int(m.value) == i["value16"]!.int!)
            #expect(m.tid == (try VectorInputs.tid(i)))
        case let .meterTest(t):
            #expect(Int(t.control) == i["control"]!.int!)
            #expect(Int(t.manufacturerCode) == i["manufacturer_code"]!.int!)
        case .keyChange:
            Issue.record("token vectors hold no key-change tokens")
        }
    }

    @Test("decode-only vectors (currency tokens whose amount the source abbreviates)", arguments: PublicVectors.kind("decode"))
    func decodeOnly(_ v: PublicVector) throws {
        let decoded = try VectorInputs.decoder(v.inputs).decode(v.inputs["token"]!.string!)
        #expect(Int(decoded.tokenClass.rawValue) == v.expected["class"]!.int!)
        #expect(Int(decoded.subclass) == v.expected["subclass"]!.int!)
        #expect(decoded.dataBlock.hex == v.intermediate["data_block_hex"]!.string!)
        guard case let .currencyCredit(c) = decoded.content else { Issue.record("not currency"); return }
        #expect(Int(c.tid.value) == v.intermediate["tid"]!.int!)
        #expect(Int(c.amount.signAndExponent) == v.intermediate["se_nibble"]!.int!)
        if let issued = v.expected["issued"]?.string, let bd = v.inputs["base_date"]?.int {
            let when = c.tid.time(baseDate: try BaseDate(year: bd))
            #expect(when == issued.replacingOccurrences(of: " ", with: "T") + "Z")
        }
        if let amount = v.intermediate["currency_amount"], case let .number(d) = amount, d < 1e12 {
            #expect(abs(Double(c.amount.decimalString)! - d) < 1e-6)
        }
    }

    @Test("key-change sets give the published tokens, and decode to the new key's attributes",
          arguments: PublicVectors.kind("key_change"))
    func keyChange(_ v: PublicVector) throws {
        let i = v.inputs
        let old = i["old"]!.object!, new = i["new"]!.object!
        let issuer = try TokenIssuer(meter: VectorInputs.meter(old), vendingKey: VendingKey(hex: old["vending_key"]!.string!))
        var newMeter = try VectorInputs.meter(new)
        newMeter.expiry = try KeyExpiryNumber(i["ken"]!.int!)
        let expected = v.expected["tokens"]!.array!.map { $0.string! }
        let tokens = try issuer.keyChange(to: newMeter, newVendingKey: VendingKey(hex: new["vending_key"]!.string!),
                                          rollover: i["ro"]!.int! == 1, tokenCount: expected.count)
        #expect(tokens.map(\.number.digits) == expected)
        #expect(tokens.map(\.dataBlock.hex) == v.intermediate["data_blocks"]!.array!.map { $0.string! })

        let decoder = try VectorInputs.decoder(old)
        let decoded = try expected.map { try decoder.decode($0).content }
        guard case let .keyChange(.first(kenHigh, krn, ro, three, kt, _)) = decoded[0] else { Issue.record("first"); return }
        #expect(Int(kenHigh) == i["ken"]!.int! >> 4 && Int(krn) == i["krn"]!.int! && Int(kt) == i["key_type"]!.int!)
        #expect(ro == (i["ro"]!.int! == 1) && three == (expected.count == 3))
        guard case let .keyChange(.second(kenLow, ti, _)) = decoded[1] else { Issue.record("second"); return }
        #expect(Int(kenLow) == i["ken"]!.int! & 0xF && Int(ti) == i["ti"]!.int!)
    }
}
