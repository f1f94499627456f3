import STSStation
import STSSupport

/// What every v3 request message carries (the interface's `Transaction`): its id and time, who
/// originated it, the client that sent it, and the entities it settles through; kept as sent, so
/// the answer echoes them unchanged.
public struct PUSIEnvelope: Sendable {
    /// The message id (a canonical UUID, equal to the id in the path) and its time (RFC 3339).
    public let id: String, time: String
    /// The members echoed in the answer, as sent.
    public let originator: JSON, client: JSON, settlementEntity: JSON?, receiver: JSON?, thirdPartyIdentifiers: JSON
    /// The ids settlement reports group by.
    public let origin: POSOrigin
    /// The sending client's institution id.
    public let clientID: String

    init(_ f: PUSIFields, pathID: String) throws(PUSIError) {
        let id = try f.required("id", max: 36)
        guard PUSIFormat.isUUID(id) else { throw .format("\"id\" must be a UUID in its canonical lower-case form") }
        guard id == pathID else { throw .format("the message's \"id\" (\(id)) is not the id in the path (\(pathID))") }
        self.id = id
        time = try f.required("time", max: 40)
        guard PUSIFormat.isDateTime(time) else { throw .format("\"time\" must be an RFC 3339 date-time (2026-12-03T10:15:30.123Z)") }
        let o = try f.requiredObject("originator")
        let institution = try Self.institution(try o.requiredObject("institution"))
        let terminal = try o.required("terminalId", max: 8, length: 8, what: "exactly 8 characters")
        let merchant = try o.requiredObject("merchant")
        let merchantID = try merchant.required("merchantId", max: 15, length: 15, what: "exactly 15 characters")
        _ = try merchant.required("merchantType", max: 4, length: 4, allowed: PUSIFields.digit, what: "4 digits (the merchant category code)")
        let name = try merchant.requiredObject("merchantName")
        _ = try name.required("name", max: 23)
        _ = try name.required("city", max: 13)
        _ = try name.required("region", max: 2)
        _ = try name.required("country", max: 2)
        _ = try o.string("operatorId", max: 30)
        _ = try o.string("channelId", max: 50)
        clientID = try Self.institution(try f.requiredObject("client"))
        let settlement = try f.object("settlementEntity").map { (s) throws(PUSIError) in try Self.institution(s) }
        if let r = try f.object("receiver") { _ = try Self.institution(r) }
        thirdPartyIdentifiers = try Self.thirdPartyIdentifiers(f)
        originator = f.raw("originator") ?? .null
        client = f.raw("client") ?? .null
        settlementEntity = f.raw("settlementEntity")
        receiver = f.raw("receiver")
        origin = POSOrigin(institution: institution, merchant: merchantID, terminal: terminal, settlement: settlement ?? "")
    }

    /// An `Institution`: `id` (1–40 characters) and `name` (1–40); returns the id.
    static func institution(_ f: PUSIFields) throws(PUSIError) -> String {
        let id = try f.required("id", max: 40)
        _ = try f.required("name", max: 40)
        return id
    }

    /// `thirdPartyIdentifiers`: required, an array (possibly empty) of at most 20 entries with an
    /// `institutionId` of 1–11 digits and a `transactionIdentifier` of 1–100 characters.
    static func thirdPartyIdentifiers(_ f: PUSIFields) throws(PUSIError) -> JSON {
        guard let list = try f.objects("thirdPartyIdentifiers", max: 20) else { throw .format("\"thirdPartyIdentifiers\" is required (an empty array when there are none)") }
        for t in list {
            _ = try t.required("institutionId", max: 11, allowed: PUSIFields.digit, what: "1–11 digits")
            _ = try t.required("transactionIdentifier", max: 100)
        }
        return f.raw("thirdPartyIdentifiers") ?? .array([])
    }
}

/// The `meter` of a request: at least its `meterId`, which names one of the station's meters.
public struct PUSIMeter: Sendable {
    /// The meter number as sent (the 11- or 13-digit number on the meter, or its 18-digit PAN).
    public let meterID: String
    /// The meter object as sent, to echo.
    public let raw: JSON

    init(_ f: PUSIFields) throws(PUSIError) {
        let m = try f.requiredObject("meter")
        meterID = try m.required("meterId", max: 20, allowed: PUSIFields.alphanumeric, what: "1–20 letters or digits")
        _ = try m.string("track2Data", max: 34, length: 34)
        _ = try m.string("serviceType", max: 12, allowed: PUSIFields.alphanumeric)
        _ = try m.string("supplyGroupCode", max: 6, length: 6, allowed: PUSIFields.digit, what: "6 digits")
        _ = try m.string("keyRevisionNum", max: 1, length: 1, allowed: PUSIFields.digit, what: "1 digit")
        _ = try m.string("tariffIndex", max: 2, length: 2, allowed: PUSIFields.digit, what: "2 digits")
        _ = try m.string("tokenTechCode", max: 2, length: 2, allowed: PUSIFields.digit, what: "2 digits")
        _ = try m.string("algorithmCode", max: 2, length: 2, allowed: PUSIFields.digit, what: "2 digits")
        raw = f.raw("meter") ?? .null
    }
}

/// Parses a request body: strict RFC 8259 JSON whose top level is an object.
func parseBody(_ bytes: [UInt8]) throws(PUSIError) -> PUSIFields {
    guard !bytes.isEmpty else { throw .format("the message body is empty") }
    let parsed: JSON
    do { parsed = try bytes.withUnsafeBufferPointer { b throws(JSONSyntaxError) in try JSON.parse(b) } } catch {
        throw .format("the body is not JSON: \(error)")
    }
    guard let o = parsed.object else { throw .format("the body must be a JSON object") }
    return PUSIFields(o)
}

/// `MeterLookupRequest` and `KeyChangeTokenRequest`: an envelope and a meter.
public struct PUSIMeterRequest: Sendable {
    /// The envelope and the meter.
    public let envelope: PUSIEnvelope, meter: PUSIMeter

    /// Parses the body of a request whose path names `pathID`.
    public init(body: [UInt8], pathID: String) throws(PUSIError) {
        let f = try parseBody(body)
        envelope = try PUSIEnvelope(f, pathID: pathID)
        meter = try PUSIMeter(f)
    }
}

/// `PurchaseRequest` (a purchase, its retry, or a trial): the meter and the amount paid.
public struct PUSIPurchaseRequest: Sendable {
    /// The envelope and the meter.
    public let envelope: PUSIEnvelope, meter: PUSIMeter
    /// `purchaseAmount`: minor units (cents) and the ISO 4217 numeric currency code.
    public let amount: Int64, currency: String
    /// `utilityType` and `msisdn` as sent, when sent.
    public let utilityType: String?, msisdn: String?

    /// Parses the body of a request whose path names `pathID`.
    public init(body: [UInt8], pathID: String) throws(PUSIError) {
        let f = try parseBody(body)
        envelope = try PUSIEnvelope(f, pathID: pathID)
        meter = try PUSIMeter(f)
        let a = try f.requiredObject("purchaseAmount")
        guard let v = a.raw("amount")?.integer, v >= 0, v <= 99_999_999_999_999_999 else {
            throw .format("\"purchaseAmount.amount\" must be a whole number of minor units, 0 or more")
        }
        amount = v
        // The models give the currency as a string of 3 digits; some test data sends a number.
        switch a.raw("currency") {
        case let .string(s)? where s.utf8.count == 3 && s.utf8.allSatisfy(PUSIFields.digit): currency = s
        case let .integer(n)? where (0...999).contains(n): currency = String("00\(n)".suffix(3))
        default: throw .format("\"purchaseAmount.currency\" must be the ISO 4217 numeric code, 3 digits (\"710\")")
        }
        if let l = a.raw("ledgerIndicator"), l != .string("DEBIT"), l != .string("CREDIT") {
            throw .format("\"purchaseAmount.ledgerIndicator\" must be DEBIT or CREDIT")
        }
        utilityType = try f.string("utilityType", max: 40)
        msisdn = try f.string("msisdn", max: 16, what: "a phone number (E.164, or 10 digits starting 0)")
        if let m = msisdn, !Self.isMSISDN(m) { throw .format("\"msisdn\" must be a phone number: +CC… (E.164, at most 15 digits) or 10 digits starting 0") }
        _ = try f.objects("tenders", max: 20)
    }

    /// The model's pattern `(^\+?[1-9]\d{1,14})|(^0[0-9]{9})`, read as the whole text.
    static func isMSISDN(_ s: String) -> Bool {
        let b = Array(s.utf8)
        if b.count == 10, b[0] == 48, b.allSatisfy(PUSIFields.digit) { return true }
        let digits = b.first == 43 ? Array(b.dropFirst()) : b
        return (2...15).contains(digits.count) && digits[0] != 48 && digits.allSatisfy(PUSIFields.digit)
    }

    /// What must be the same when the purchase is retried.
    public var fingerprint: String { "purchase|\(meter.meterID)|\(amount)|\(currency)" }
}

/// `TokenReprintRequest`: the meter and, optionally, which purchase (`originalRef`).
public struct PUSIReprintRequest: Sendable {
    /// The envelope and the meter.
    public let envelope: PUSIEnvelope, meter: PUSIMeter
    /// The purchase's id or receipt number; nil: the latest.
    public let originalRef: String?

    /// Parses the body of a request whose path names `pathID`.
    public init(body: [UInt8], pathID: String) throws(PUSIError) {
        let f = try parseBody(body)
        envelope = try PUSIEnvelope(f, pathID: pathID)
        meter = try PUSIMeter(f)
        originalRef = try f.string("originalRef", max: 40)
    }
}

/// `FaultReportRequest`: the meter, what is wrong, and how to reach the customer.
public struct PUSIFaultReport: Sendable {
    /// The interface's fault types, by their enumeration names (the camel-case forms are read too).
    public static let faultTypes: [String: String] = {
        let pairs = [("SERIOUS_BOX_DAMAGE", "SeriousBoxDamage"), ("FIRE_WATER_DAMAGE", "FireWaterDamage"), ("METER_DEAD", "MeterDead"),
                     ("KEEPS_TRIPPING", "KeepsTripping"), ("NO_TRIP", "NoTrip"), ("DISPLAY_LIGHTS_BUTTONS", "DisplayLightsButtons"),
                     ("NETWORK_FAULT_REPORT", "NetworkFaultReport"), ("INCORRECT_SGC", "IncorrectSGC"), ("INCORRECT_TI", "IncorrectTI"),
                     ("CONVERTED_FRM_CONVENTIONAL", "ConvertedFrmConventional"), ("METER_CHANGED_OUT", "MeterChangedOut"),
                     ("NEW_INSTALLATION", "NewInstallation")]
        var map: [String: String] = [:]
        for (name, camel) in pairs { map[name] = name; map[camel] = name }
        return map
    }()

    /// The envelope and the meter.
    public let envelope: PUSIEnvelope, meter: PUSIMeter
    /// The fault type (its enumeration name), the description, the contact number, the customer's name.
    public let faultType: String, description: String, contactNumber: String, customer: String

    /// Parses the body of a request whose path names `pathID`.
    public init(body: [UInt8], pathID: String) throws(PUSIError) {
        let f = try parseBody(body)
        envelope = try PUSIEnvelope(f, pathID: pathID)
        meter = try PUSIMeter(f)
        contactNumber = try f.required("contactNumber", max: 20)
        let type = try f.required("faultType", max: 40)
        guard let name = Self.faultTypes[type] else { throw .format("\"faultType\" must be one of the interface's fault types (KEEPS_TRIPPING, METER_DEAD, …)") }
        faultType = name
        description = try f.string("faultDescription", max: 160) ?? ""
        if let c = try f.object("customer") {
            let first = try c.string("firstName", max: 40), last = try c.string("lastName", max: 40)
            _ = try c.string("address", max: 80)
            customer = [first, last].compactMap { $0 }.joined(separator: " ")
        } else { customer = "" }
    }
}

/// A `ConfirmationAdvice` or `ReversalAdvice` on a purchase.
public struct PUSIAdvice: Sendable {
    /// The advice's id (the path's), the purchase it is about (`requestId`), and its time.
    public let id: String, requestID: String, time: String
    /// `thirdPartyIdentifiers` as sent, to echo.
    public let thirdPartyIdentifiers: JSON
    /// A reversal's reason: `TIMEOUT`, `CANCELLED` or `RESPONSE_NOT_FINAL`.
    public let reversalReason: String?

    /// Parses an advice whose path names `adviceID` about purchase `purchaseID`.
    public init(body: [UInt8], adviceID: String, purchaseID: String, reversal: Bool) throws(PUSIError) {
        let f = try parseBody(body)
        id = try f.required("id", max: 36)
        requestID = try f.required("requestId", max: 36)
        guard PUSIFormat.isUUID(id), PUSIFormat.isUUID(requestID) else { throw .format("\"id\" and \"requestId\" must be UUIDs in their canonical lower-case form") }
        guard id == adviceID, requestID == purchaseID else { throw .format("the advice's \"id\" and \"requestId\" must be the ids in the path") }
        time = try f.required("time", max: 40)
        guard PUSIFormat.isDateTime(time) else { throw .format("\"time\" must be an RFC 3339 date-time") }
        thirdPartyIdentifiers = try PUSIEnvelope.thirdPartyIdentifiers(f)
        if reversal {
            let r = try f.required("reversalReason", max: 20)
            guard ["TIMEOUT", "CANCELLED", "RESPONSE_NOT_FINAL"].contains(r) else { throw .format("\"reversalReason\" must be TIMEOUT, CANCELLED or RESPONSE_NOT_FINAL") }
            reversalReason = r
        } else {
            reversalReason = nil
            _ = try f.objects("tenders", max: 20)
        }
        _ = try f.string("stan", max: 40)
        _ = try f.string("rrn", max: 40)
    }

    /// The advice's canonical text.
    public var fingerprint: String { "advice|\(requestID)|\(reversalReason ?? "confirm")" }
}
