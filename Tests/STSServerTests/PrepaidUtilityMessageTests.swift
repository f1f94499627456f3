import Foundation
import STSPrepaidUtility
import STSSupport
import STSTestFixtures
import Testing

/// Reading the Electrum Prepaid Utility v3 messages (Specs/prepaid-utility.md §3) from the sample
/// messages in Fixtures/fuzz/pusi-message/ (the interface's documented example, its Postman pack's
/// spellings): what they say, and each required member taken away refused as FORMAT_ERROR.
struct PrepaidUtilityMessageTests {
    static func fixture(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: PublicVectors.root.appendingPathComponent("Fixtures/fuzz/pusi-message/\(name)").path) ?? Data())
    }
    static let id = "3f0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f"

    static func without(_ bytes: [UInt8], _ path: [String]) -> [UInt8] {
        guard var o = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return [] }
        func drop(_ o: inout [String: Any], _ p: ArraySlice<String>) {
            guard let k = p.first else { return }
            if p.count == 1 { o[k] = nil; return }
            guard var inner = o[k] as? [String: Any] else { return }
            drop(&inner, p.dropFirst())
            o[k] = inner
        }
        drop(&o, path[...])
        return Array((try? JSONSerialization.data(withJSONObject: o)) ?? Data())
    }

    @Test("the documented purchase reads: envelope, origin for settlement, meter, minor units and the numeric currency")
    func purchase() throws {
        let p = try PUSIPurchaseRequest(body: Self.fixture("purchase.json"), pathID: Self.id)
        #expect(p.envelope.id == Self.id && p.envelope.time == "2020-11-20T10:15:30.123Z")
        #expect(p.envelope.origin == .init(institution: "123", merchant: "123456789012345", terminal: "00000001", settlement: "456"))
        #expect(p.meter.meterID == "01234567890" && p.amount == 10_000 && p.currency == "710" && p.utilityType == "Electricity")
        #expect(p.envelope.thirdPartyIdentifiers.array?.count == 1)
        #expect(throws: PUSIError.self) { try PUSIPurchaseRequest(body: Self.fixture("purchase.json"), pathID: "9a0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f") }
    }

    @Test("each required member missing is a FORMAT_ERROR", arguments: [
        ["id"], ["time"], ["originator"], ["originator", "institution"], ["originator", "terminalId"], ["originator", "merchant"],
        ["originator", "merchant", "merchantId"], ["originator", "merchant", "merchantName"], ["client"], ["thirdPartyIdentifiers"],
        ["meter"], ["meter", "meterId"], ["purchaseAmount"], ["purchaseAmount", "amount"], ["purchaseAmount", "currency"],
    ])
    func missing(_ path: [String]) {
        do {
            _ = try PUSIPurchaseRequest(body: Self.without(Self.fixture("purchase.json"), path), pathID: Self.id)
            Issue.record("\(path) missing was read")
        } catch { #expect(error.type == .formatError && error.status == 400, "\(error.detail)") }
    }

    @Test("the other messages read, fault types in both spellings, advices with their reasons")
    func others() throws {
        let f = try PUSIFaultReport(body: Self.fixture("fault.json"), pathID: Self.id)
        #expect(f.faultType == "KEEPS_TRIPPING" && f.contactNumber == "0821234567" && f.customer == "A B")
        #expect(try PUSIReprintRequest(body: Self.fixture("reprint.json"), pathID: Self.id).originalRef == Self.id)
        #expect(try PUSIMeterRequest(body: Self.fixture("lookup.json"), pathID: Self.id).meter.meterID == "01234567890")
        let r = try PUSIAdvice(body: Self.fixture("reversal.json"), adviceID: "9a0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f", purchaseID: Self.id, reversal: true)
        #expect(r.reversalReason == "TIMEOUT")
        #expect(throws: PUSIError.self) { try PUSIAdvice(body: Self.fixture("reversal.json"), adviceID: "9a0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f", purchaseID: "9b0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f", reversal: true) }
        _ = try PUSIAdvice(body: Self.fixture("confirmation.json"), adviceID: "9b0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f", purchaseID: Self.id, reversal: false)
    }

    @Test("ids are canonical UUIDs; times are RFC 3339", arguments: [
        ("3f0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f", true), ("3F0F6A3E-2B1C-4F7E-9D7A-2A9B1C0D4E5F", false), ("3f0f6a3e2b1c4f7e9d7a2a9b1c0d4e5f", false),
        ("3f0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5", false), ("3f0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5g", false),
    ])
    func uuid(_ text: String, _ valid: Bool) { #expect(PUSIFormat.isUUID(text) == valid) }

    @Test("RFC 3339 date-times", arguments: [
        ("2020-11-20T10:15:30.123Z", true), ("2020-11-20T10:15:30Z", true), ("2020-11-20T10:15:30+02:00", true), ("2020-11-20t10:15:30.123456789z", true),
        ("2020-11-20 10:15:30Z", false), ("2020-13-20T10:15:30Z", false), ("2020-11-20T24:00:00Z", false), ("2020-11-20T10:15:30", false),
        ("2020-11-20T10:15:30.Z", false), ("2020-11-20T10:15:30+0200", false),
    ])
    func dateTime(_ text: String, _ valid: Bool) { #expect(PUSIFormat.isDateTime(text) == valid) }

    @Test("an ErrorDetail: the message's id, the interface's type, a short message of at most 20 characters", arguments: PUSIError.ErrorType.allCases)
    func errorDetail(_ type: PUSIError.ErrorType) throws {
        var e = PUSIError(400, type, "why")
        e.id = Self.id
        e.requestType = .tokenPurchase
        let o = try JSON.parse(String(decoding: e.json, as: UTF8.self))
        #expect(o["errorType"]?.string == type.rawValue && o["id"]?.string == Self.id && o["requestType"]?.string == "TOKEN_PURCHASE_REQUEST")
        #expect((o["errorMessage"]?.string?.count ?? 99) <= 20 && o["detailMessage"]?.string == "why")
    }
}
