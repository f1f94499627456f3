import STSCrypto
import STSTokenFormat
import STSVending

/// Reading the fields of one batch request (the schema is in Specs/batch.md) straight off the
/// parsed tape: no tree, no intermediate strings.
struct RequestFields {
    let tape: JSONTape
    let node: Int
    /// Lookups follow the order fields are usually written in.
    let cursor: MemberCursor

    init(tape: JSONTape, node: Int, cursor: MemberCursor = MemberCursor()) {
        self.tape = tape
        self.node = node
        self.cursor = cursor
        cursor.start(node)
    }

    func member(_ key: StaticString) -> Int? { tape.member(node, key, cursor: cursor) }

    func has(_ key: StaticString) -> Bool {
        guard let v = member(key) else { return false }
        return tape.kind(v) != .null
    }

    func string(_ key: StaticString) throws(BatchError) -> String {
        guard let v = member(key) else { throw .badRequest("missing \"\(key)\"") }
        guard let s = tape.string(v) else { throw .badRequest("\"\(key)\" must be a string") }
        return s
    }

    /// An integer, or a string of decimal digits (as spreadsheets export them).
    func int(_ key: StaticString) throws(BatchError) -> Int64 {
        guard let v = member(key) else { throw .badRequest("missing \"\(key)\"") }
        return try int(v, key)
    }

    func int(_ v: Int, _ key: StaticString) throws(BatchError) -> Int64 {
        if let i = tape.integer(v) { return i }
        if let s = tape.plainBytes(v), let i = DecimalText.int64(s) { return i }
        throw .badRequest("\"\(key)\" must be an integer")
    }

    /// An integer member, nil when absent or null (one lookup).
    func optionalInt(_ key: StaticString) throws(BatchError) -> Int64? {
        guard let v = member(key), tape.kind(v) != .null else { return nil }
        return try int(v, key)
    }

    func object(_ key: StaticString, cursor: MemberCursor = MemberCursor()) throws(BatchError) -> RequestFields {
        guard let v = member(key) else { throw .badRequest("missing \"\(key)\"") }
        guard tape.kind(v) == .object else { throw .badRequest("\"\(key)\" must be an object") }
        return RequestFields(tape: tape, node: v, cursor: cursor)
    }

    /// A meter object (`meter` or `new_meter`) and the vending key it names.
    func meter(keys: [String: VendingKey]) throws -> (MeterProfile, VendingKey) {
        let pan: MeterPAN
        if let v = member("pan"), let digits = tape.plainBytes(v) {
            pan = digits.count == 18 ? try MeterPAN(digits: digits) : try MeterPAN(meterNumber: String(decoding: digits, as: UTF8.self))
        } else {
            pan = try MeterPAN(meterNumber: String(try int("pan")))
        }
        let sgc: SupplyGroupCode
        if let v = member("sgc"), let s = tape.string(v) {
            sgc = try SupplyGroupCode(s)
        } else {
            let v = try int("sgc")
            guard let u = UInt32(exactly: v) else { throw FieldError.outOfRange(field: "supply group code", value: "\(v)", range: "000000–999999") }
            sgc = try SupplyGroupCode(value: u)
        }
        func small(_ key: StaticString) throws -> Int {
            let v = try int(key)
            // Every meter attribute is a small number; anything else is out of range for its type.
            return Int(clamping: v)
        }
        let profile = MeterProfile(
            pan: pan, supplyGroup: sgc,
            tariffIndex: try TariffIndex(try small("ti")), revision: try KeyRevisionNumber(try small("krn")),
            keyType: try KeyType(try small("kt")), expiry: try KeyExpiryNumber(Int(clamping: try optionalInt("ken") ?? 255)),
            baseDate: try BaseDate(year: try small("base_date")),
            derivation: try KeyDerivationAlgorithm(code: try small("dkga")),
            encryption: try EncryptionAlgorithm(code: try small("ea")))
        guard let v = member("vending_key"), tape.kind(v) == .string else {
            throw BatchError.badRequest(member("vending_key") == nil ? "missing \"vending_key\"" : "\"vending_key\" must be a string")
        }
        let name = tape.string(v) ?? ""
        guard let key = keys[name] else { throw BatchError.unknownKey(name) }
        return (profile, key)
    }
}

/// Decimal digits in bytes (an optional leading `-`), checked for overflow.
enum DecimalText {
    static func int64(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !s.isEmpty, s.count <= 20 else { return nil }
        let negative = s[0] == 45
        var i = negative ? 1 : 0
        guard i < s.count else { return nil }
        var v: Int64 = 0
        while i < s.count {
            let d = s[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (r, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            v = r
            i += 1
        }
        return v
    }
}

/// The meter object of the batch format (`pan`, `sgc`, `ti`, `krn`, `kt`, `ken`, `base_date`,
/// `dkga`, `ea`, `vending_key`), shared with the station's audit log so an auditor's keys file
/// works for both.
public enum MeterJSON {
    /// The meter profile and its vending key, found in `keys` by the `vending_key` name.
    public static func profile(_ tape: JSONTape, _ node: Int, keys: [String: VendingKey]) throws -> (MeterProfile, VendingKey) {
        guard tape.kind(node) == .object else { throw BatchError.badRequest("\"meter\" must be an object") }
        return try RequestFields(tape: tape, node: node).meter(keys: keys)
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
