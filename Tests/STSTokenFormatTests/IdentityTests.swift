import STSTestFixtures
import STSTokenFormat
import Testing

struct IdentityTests {
    @Test("Luhn vectors (CTSA17 DRNs that must be rejected)", arguments: PublicVectors.kind("luhn"))
    func luhn(_ v: PublicVector) {
        #expect(Luhn.isValid(v.inputs["number"]!.string!) == v.expected["valid"]!.bool!)
    }

    @Test("PAN vectors pass both check digits", arguments: PublicVectors.kind("pan_check"))
    func pan(_ v: PublicVector) throws {
        let text = v.inputs["meter_pan"]!.string!
        let pan = try MeterPAN(text)
        #expect(pan.description == text)
        #expect(v.expected["pan_luhn_ok"]!.bool! == true)
    }

    @Test("PAN forms: IIN, DRN, manufacturer code, PAN block digits")
    func panParts() throws {
        let legacy = try MeterPAN("600727111111111153")
        #expect(legacy.iin == "600727" && legacy.drn == "11111111115" && legacy.manufacturerCode == 11)
        #expect(legacy.panBlockDigits == 72_711_111_111_115)
        let short = try MeterPAN("000001000000000082")
        #expect(short.iin == "0000" && short.drn == "0100000000008" && short.manufacturerCode == 100)
        #expect(try MeterPAN(iin: "600727", drn: "11111111115") == legacy)
        #expect(try MeterPAN(meterNumber: "0100000000008") == short)
        #expect(try MeterPAN(meterNumber: "11111111115") == legacy)
    }

    @Test("PAN errors are typed and precise")
    func panErrors() {
        #expect(throws: FieldError.badDigits(field: "meter PAN", expected: "18 digits", got: "60072700000000009")) { try MeterPAN("60072700000000009") }
        #expect(throws: FieldError.badDigits(field: "meter PAN", expected: "18 digits", got: "60072700000000000x")) { try MeterPAN("60072700000000000x") }
        #expect(throws: FieldError.badCheckDigit(field: "meter PAN")) { try MeterPAN("600727000000000008") }
        // Valid PAN check digit over a DRN whose own check digit is wrong.
        #expect(throws: FieldError.badCheckDigit(field: "DRN inside the meter PAN")) { try MeterPAN("600727123456789048") }
        #expect(throws: FieldError.drnLengthMismatch(iinDigits: 6, drnDigits: 13)) { try MeterPAN(iin: "600727", drn: "0100000000008") }
        #expect(throws: FieldError.drnLengthMismatch(iinDigits: 4, drnDigits: 11)) { try MeterPAN(iin: "0000", drn: "11111111115") }
        #expect(throws: FieldError.badCheckDigit(field: "DRN")) { try MeterPAN(iin: "600727", drn: "12345678904") }
        #expect(throws: FieldError.badCheckDigit(field: "DRN")) { try MeterPAN(meterNumber: "11111111113") }
    }

    @Test("key attribute ranges")
    func attributes() throws {
        #expect(try SupplyGroupCode("000123").description == "000123")
        #expect(throws: FieldError.self) { try SupplyGroupCode("12345") }
        #expect(throws: FieldError.self) { try SupplyGroupCode(value: 1_000_000) }
        #expect(throws: FieldError.self) { try TariffIndex(100) }
        #expect(throws: FieldError.self) { try KeyRevisionNumber(0) }
        #expect(throws: FieldError.self) { try KeyRevisionNumber(16) }
        #expect(throws: FieldError.self) { try KeyType(4) }
        #expect(throws: FieldError.self) { try KeyType(-1) }
        #expect(throws: FieldError.self) { try KeyExpiryNumber(256) }
        #expect(throws: FieldError.self) { try BaseDate(year: 2000) }
        #expect(throws: FieldError.self) { try EncryptionAlgorithm(code: 8) }
        let ken = try KeyExpiryNumber(170)
        #expect(ken.highNibble == 0xA && ken.lowNibble == 0xA)
        #expect(ken.permits(TokenIdentifier(field: 170 << 16 | 0xFFFF)))
        #expect(!ken.permits(TokenIdentifier(field: 171 << 16)))
        #expect(try KeyExpiryNumber(255).permits(TokenIdentifier(field: TokenIdentifier.maximum)))
    }
}

struct TimeTests {
    @Test("base dates are 00:00 UTC on 1 January")
    func baseDates() {
        #expect(BaseDate.y1993.unixSeconds == 725_846_400)
        #expect(BaseDate.y2014.unixSeconds == 1_388_534_400)
        #expect(BaseDate.y2035.unixSeconds == 2_051_222_400)
    }

    @Test("TID of a time, the reserved 00:01 minute, and the 24-bit limit")
    func tids() throws {
        let t = try CivilTime.parseISO8601("2004-03-01T13:55:00Z")
        #expect(try TokenIdentifier(atUnixSeconds: t, baseDate: .y1993).value == 5_871_715)
        let reserved = try CivilTime.parseISO8601("2026-07-29T00:01:00Z")
        let tid = try TokenIdentifier.forVending(atUnixSeconds: reserved, baseDate: .y2014)
        #expect(tid.value % 1440 == 2)
        #expect(try TokenIdentifier(atUnixSeconds: reserved, baseDate: .y2014).isReserved)
        // The 1993 TID ran out after 2024-11-24 20:15.
        #expect(try TokenIdentifier(atUnixSeconds: CivilTime.parseISO8601("2024-11-24T20:15:00Z"), baseDate: .y1993).value == 0xFF_FFFF)
        #expect(throws: FieldError.self) { try TokenIdentifier(atUnixSeconds: CivilTime.parseISO8601("2024-11-24T20:16:00Z"), baseDate: .y1993) }
        #expect(throws: FieldError.self) { try TokenIdentifier(atUnixSeconds: CivilTime.parseISO8601("2013-12-31T23:59:00Z"), baseDate: .y2014) }
        #expect(throws: FieldError.self) { try TokenIdentifier(16_777_216) }
        #expect(TokenIdentifier(field: 5_871_715).time(baseDate: .y1993) == "2004-03-01T13:55Z")
    }

    @Test("ISO 8601 parsing: zones, fractions, and refusals")
    func iso() throws {
        #expect(try CivilTime.parseISO8601("2024-01-01T12:00+02:00") == CivilTime.parseISO8601("2024-01-01T10:00:00Z"))
        #expect(try CivilTime.parseISO8601("2024-01-01 10:00:00.75Z") == CivilTime.parseISO8601("2024-01-01T10:00:00Z"))
        #expect(try CivilTime.parseISO8601("2024-02-29T00:00:00Z") == 1_709_164_800)
        for bad in ["2024-01-01T10:00:00", "2023-02-29T00:00Z", "2024-13-01T00:00Z", "2024-01-01T24:00Z", "yesterday", "2024-01-01T10:00:00Zjunk"] {
            #expect(throws: FieldError.badTimestamp(bad)) { try CivilTime.parseISO8601(bad) }
        }
    }
}
