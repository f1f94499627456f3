import STSCrypto
import STSTokenFormat
import STSVending

/// Reading the fields of one batch request (the schema is in Specs/batch.md).
struct RequestFields {
    let json: JSON

    func string(_ key: String) throws(BatchError) -> String {
        guard let v = json[key] else { throw .badRequest("missing \"\(key)\"") }
        guard let s = v.string else { throw .badRequest("\"\(key)\" must be a string") }
        return s
    }

    func int(_ key: String, in o: JSON? = nil) throws(BatchError) -> Int64 {
        guard let v = (o ?? json)[key] else { throw .badRequest("missing \"\(key)\"") }
        if let i = v.integer { return i }
        if let s = v.string, let i = Int64(s) { return i }
        throw .badRequest("\"\(key)\" must be an integer")
    }

    func optionalInt(_ key: String) throws(BatchError) -> Int64? {
        json[key] == nil || json[key] == .null ? nil : try int(key)
    }

    /// A meter object (`meter` or `new_meter`) and the vending key it names.
    static func meter(_ o: JSON, keys: [String: VendingKey], field: String) throws -> (MeterProfile, VendingKey) {
        guard o.object != nil else { throw BatchError.badRequest("\"\(field)\" must be an object") }
        let f = RequestFields(json: o)
        let pan: String
        if let s = o["pan"]?.string { pan = s } else { pan = String(try f.int("pan")) }
        let sgc: SupplyGroupCode
        if let s = o["sgc"]?.string {
            sgc = try SupplyGroupCode(s)
        } else {
            let v = try f.int("sgc")
            guard let u = UInt32(exactly: v) else { throw FieldError.outOfRange(field: "supply group code", value: "\(v)", range: "000000–999999") }
            sgc = try SupplyGroupCode(value: u)
        }
        let profile = MeterProfile(
            pan: try MeterPAN(meterNumber: pan), supplyGroup: sgc,
            tariffIndex: try TariffIndex(Int(try f.int("ti"))), revision: try KeyRevisionNumber(Int(try f.int("krn"))),
            keyType: try KeyType(Int(try f.int("kt"))), expiry: try KeyExpiryNumber(Int(o["ken"] == nil ? 255 : try f.int("ken"))),
            baseDate: try BaseDate(year: Int(try f.int("base_date"))),
            derivation: try KeyDerivationAlgorithm(code: Int(try f.int("dkga"))),
            encryption: try EncryptionAlgorithm(code: Int(try f.int("ea"))))
        let name = try f.string("vending_key")
        guard let key = keys[name] else { throw BatchError.unknownKey(name) }
        return (profile, key)
    }
}

/// The meter object of the batch format (`pan`, `sgc`, `ti`, `krn`, `kt`, `ken`, `base_date`,
/// `dkga`, `ea`, `vending_key`), shared with the station's audit log so an auditor's keys file
/// works for both.
public enum MeterJSON {
    /// The meter profile and its vending key, found in `keys` by the `vending_key` name.
    public static func profile(_ o: JSON, keys: [String: VendingKey]) throws -> (MeterProfile, VendingKey) {
        try RequestFields.meter(o, keys: keys, field: "meter")
    }

    /// Writes `meter` as the members of an open object.
    public static func write(_ meter: MeterProfile, vendingKey: String, to w: inout JSONLineWriter) {
        w.field("pan", meter.pan.description)
        w.field("sgc", meter.supplyGroup.description)
        w.field("ti", Int(meter.tariffIndex.value))
        w.field("krn", Int(meter.revision.value))
        w.field("kt", Int(meter.keyType.rawValue))
        w.field("ken", Int(meter.expiry.value))
        w.field("base_date", meter.baseDate.year)
        w.field("dkga", Int(meter.derivation.rawValue))
        w.field("ea", Int(meter.encryption.rawValue))
        w.field("vending_key", vendingKey)
    }
}
