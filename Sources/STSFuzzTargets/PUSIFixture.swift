import STSPrepaidUtility
import STSSupport

/// A point-of-sale message body read as every request and advice of the Electrum interface, under
/// the id it names (or a fixed one): a message or a FORMAT_ERROR, never a crash; a purchase that
/// reads is echoed under its envelope into JSON that reads again as the same purchase.
enum PUSIFixture {
    static func run(_ data: [UInt8]) {
        let parsed = try? data.withUnsafeBufferPointer { b throws(JSONSyntaxError) in try JSON.parse(b) }
        let id = parsed?["id"]?.string.flatMap { PUSIFormat.isUUID($0) ? $0 : nil } ?? "3f0f6a3e-2b1c-4f7e-9d7a-2a9b1c0d4e5f"
        let requestID = parsed?["requestId"]?.string ?? id
        _ = try? PUSIMeterRequest(body: data, pathID: id)
        _ = try? PUSIReprintRequest(body: data, pathID: id)
        _ = try? PUSIFaultReport(body: data, pathID: id)
        _ = try? PUSIAdvice(body: data, adviceID: id, purchaseID: requestID, reversal: true)
        _ = try? PUSIAdvice(body: data, adviceID: id, purchaseID: requestID, reversal: false)
        _ = PUSIFormat.isDateTime(String(decoding: data.prefix(64), as: UTF8.self))
        guard let purchase = try? PUSIPurchaseRequest(body: data, pathID: id) else { return }
        guard let echoed = PUSIResponse.reenveloped(data, with: purchase.envelope),
              let again = try? PUSIPurchaseRequest(body: echoed, pathID: id),
              again.fingerprint == purchase.fingerprint, again.envelope.origin == purchase.envelope.origin else {
            fatalError("a purchase does not survive its own envelope's echo")
        }
    }
}
