import Foundation
import STSStation

/// Sends due notifications through their channels and records each attempt. The log line it
/// writes names the channel and the masked contact, never the address or number in full.
public final class AlertDispatcher: @unchecked Sendable {
    public let station: Station
    public let notifiers: [String: any Notifier]
    let log: @Sendable (String) -> Void

    public init(station: Station, notifiers: [any Notifier], log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.station = station
        self.notifiers = Dictionary(notifiers.map { ($0.channel, $0) }, uniquingKeysWith: { a, _ in a })
        self.log = log
    }

    /// The channel names alerts are queued for.
    public var channels: [String] { notifiers.keys.sorted() }

    /// Sends every due notification once; returns how many went through.
    @discardableResult
    public func dispatchDue() -> Int {
        guard let due = try? station.dueNotifications() else { return 0 }
        var sent = 0
        for n in due {
            guard let notifier = notifiers[n.channel] else { continue }
            // Another station of a shared database (or another process) may be sending it already.
            guard (try? station.claimNotification(alert: n.alert.id, channel: n.channel)) == true else { continue }
            do {
                try notifier.send(n)
                try? station.recordNotification(alert: n.alert.id, channel: n.channel, error: nil)
                sent += 1
                log("alert \(n.alert.id) \(n.alert.kind) meter \(n.alert.pan) sent by \(n.channel)"
                    + (n.channel == "email" ? " to \(ContactMask.email(n.email))" : n.channel == "sms" ? " to \(ContactMask.phone(n.phone))" : ""))
            } catch {
                try? station.recordNotification(alert: n.alert.id, channel: n.channel, error: "\(error)")
                log("alert \(n.alert.id) by \(n.channel) failed (attempt \(n.attempts + 1)): \(error)")
            }
        }
        return sent
    }
}
