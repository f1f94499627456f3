import Foundation
import STSStation

/// One way of telling someone about an alert. `send` throws when the message did not get
/// through (the dispatcher retries with back-off, then parks it as dead).
public protocol Notifier: Sendable {
    /// The channel's name as stored with each notification (`webhook`, `email`, `sms`).
    var channel: String { get }
    func send(_ n: PendingNotification) throws
}

/// What went wrong sending a notification.
public struct NotifyError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}

/// The alert as the JSON body of a webhook: `event_id` is the idempotency key a receiver
/// keeps (a retry sends the same id).
enum AlertJSON {
    static func body(_ a: MeterAlert) -> [UInt8] {
        var s = "{\"event_id\":\"alert-\(a.id)\",\"type\":\"\(a.kind)\",\"meter\":\"\(a.pan)\",\"time\":\(a.time),\"detail\":"
        s += quoted(a.detail) + "}"
        return Array(s.utf8)
    }
    static func quoted(_ t: String) -> String {
        var out = "\""
        for u in t.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
    /// The text of an email or SMS.
    static func text(_ a: MeterAlert) -> String {
        switch a.kind {
        case "low-credit": return "Meter \(a.pan): low credit (\(a.detail)). Buy a token to avoid a cut."
        case "relay-open-no-credit": return "Meter \(a.pan): supply cut, no credit left. Buy a token to restore it."
        default: return "Meter \(a.pan): \(a.kind): \(a.detail)"
        }
    }
}
