import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import STSStation
import STSSupport

/// A signed webhook: POST of the alert's JSON with `X-Signature: sha256=HEX`, the HMAC-SHA256
/// of `TIMESTAMP.BODY` under the shared secret, `X-Timestamp` (seconds since 1970; receivers
/// refuse one more than 5 minutes off) and `X-Event-Id` (the idempotency key). Specs/dlms.md.
public struct WebhookNotifier: Notifier {
    public let channel = "webhook"
    public let url: String
    let secret: [UInt8]
    public var timeout: Int64 = 5

    public init(url: String, secret: [UInt8]) {
        self.url = url
        self.secret = secret
    }

    /// The signature header value for `body` sent at `timestamp`.
    public static func signature(secret: [UInt8], timestamp: Int64, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: secret))
        return "sha256=" + Hex.string(Array(mac))
    }

    public func send(_ n: PendingNotification) throws {
        let body = AlertJSON.body(n.alert)
        let now = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Event-Id", value: "alert-\(n.alert.id)")
        request.headers.add(name: "X-Timestamp", value: String(now))
        request.headers.add(name: "X-Signature", value: Self.signature(secret: secret, timestamp: now, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let req = request
        let status = try runBlocking(timeout: timeout) { try await HTTPClient.shared.execute(req, timeout: .seconds(timeout)).status.code }
        guard (200..<300).contains(status) else { throw NotifyError("webhook answered \(status)") }
    }
}

/// An SMS gateway reached by an HTTP request built from templates: `{phone}` and `{message}`
/// are replaced (percent-encoded in the URL, JSON-escaped in the body).
public struct SMSGatewayNotifier: Notifier {
    public let channel = "sms"
    public let urlTemplate: String
    public let bodyTemplate: String?
    public var timeout: Int64 = 5

    public init(urlTemplate: String, bodyTemplate: String?) {
        self.urlTemplate = urlTemplate
        self.bodyTemplate = bodyTemplate
    }

    public func send(_ n: PendingNotification) throws {
        guard !n.phone.isEmpty else { return } // no contact kept: nothing to send, nothing to retry
        let message = AlertJSON.text(n.alert)
        let allowed = CharacterSet.alphanumerics
        let url = urlTemplate.replacingOccurrences(of: "{phone}", with: n.phone.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
            .replacingOccurrences(of: "{message}", with: message.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        var request = HTTPClientRequest(url: url)
        if let bodyTemplate {
            let q = AlertJSON.quoted
            let body = bodyTemplate.replacingOccurrences(of: "{phone}", with: String(q(n.phone).dropFirst().dropLast()))
                .replacingOccurrences(of: "{message}", with: String(q(message).dropFirst().dropLast()))
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let req = request
        let status = try runBlocking(timeout: timeout) { try await HTTPClient.shared.execute(req, timeout: .seconds(timeout)).status.code }
        guard (200..<300).contains(status) else { throw NotifyError("SMS gateway answered \(status)") }
    }
}

/// Runs async work from the dispatcher's thread, with a deadline.
func runBlocking<T: Sendable>(timeout: Int64, _ work: @escaping @Sendable () async throws -> T) throws -> T {
    try BlockingTask.run(timeout: Double(timeout) + 1, onTimeout: NotifyError("no answer in \(timeout) s"), work)
}
