import STSCrypto
import STSTestFixtures
import STSTokenFormat
import STSVending

/// Builds library values from the fixture's input objects.
enum VectorInputs {
    static func meter(_ i: [String: JSONValue], expiry: Int = 255) throws -> MeterProfile {
        MeterProfile(
            pan: try MeterPAN(i["meter_pan"]!.string!), supplyGroup: try SupplyGroupCode(i["sgc"]!.string!),
            tariffIndex: try TariffIndex(i["ti"]!.int!), revision: try KeyRevisionNumber(i["krn"]!.int!),
            keyType: try KeyType(i["key_type"]!.int!), expiry: try KeyExpiryNumber(i["ken"]?.int ?? expiry),
            baseDate: try BaseDate(year: i["base_date"]!.int!), derivation: try KeyDerivationAlgorithm(code: i["dkga"]!.int!),
            encryption: try EncryptionAlgorithm(code: i["ea"]!.int!))
    }

    /// The issuer for a vector: from the vending key when given, else from the raw decoder key.
    static func issuer(_ i: [String: JSONValue]) throws -> TokenIssuer {
        if let vk = i["vending_key"]?.string {
            return try TokenIssuer(meter: meter(i), vendingKey: VendingKey(hex: vk))
        }
        let placeholder = MeterProfile(
            pan: try MeterPAN("600727000000000009"), supplyGroup: try SupplyGroupCode("000000"), tariffIndex: try TariffIndex(1),
            revision: try KeyRevisionNumber(1), keyType: .unique, expiry: try KeyExpiryNumber(255), baseDate: .y1993,
            derivation: .dkga02, encryption: try EncryptionAlgorithm(code: i["ea"]!.int!))
        return try TokenIssuer(meter: placeholder, decoderKey: DecoderKey(hex: i["decoder_key"]!.string!))
    }

    static func decoder(_ i: [String: JSONValue]) throws -> TokenDecoder {
        if let vk = i["vending_key"]?.string {
            return try TokenDecoder(meter: meter(i), vendingKey: VendingKey(hex: vk))
        }
        return try TokenDecoder(key: DecoderKey(hex: i["decoder_key"]!.string!), algorithm: EncryptionAlgorithm(code: i["ea"]!.int!))
    }

    /// The TID of a vector: its explicit `tid`, or its civil `timestamp` (UTC) under the vending rule.
    static func tid(_ i: [String: JSONValue]) throws -> TokenIdentifier {
        if let t = i["tid"]?.int { return try TokenIdentifier(t) }
        let seconds = try CivilTime.parseISO8601(i["timestamp"]!.string! + "Z")
        return try TokenIdentifier.forVending(atUnixSeconds: seconds, baseDate: BaseDate(year: i["base_date"]!.int!))
    }
}
