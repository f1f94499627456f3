import Foundation
import STSStation

/// The head-end's background work while a server runs: due deliveries every second (or at
/// once when kicked) and a reading round every `readingInterval` seconds.
public final class HeadEndWorker: @unchecked Sendable {
    public let headEnd: HeadEnd
    /// Seconds between reading rounds; 0 turns scheduled reading off.
    public let readingInterval: Int64
    let wake = DispatchSemaphore(value: 0)
    let lock = NSLock()
    var stopped = false
    var thread: Thread?
    /// Called on every pass of the loop (about once a second): the alert dispatcher.
    public var everyPass: (@Sendable () -> Void)?

    public init(headEnd: HeadEnd, readingInterval: Int64) {
        self.headEnd = headEnd
        self.readingInterval = readingInterval
    }

    /// Starts the loops: deliveries on one thread, reading rounds and notifications on another
    /// (a long round or a slow mail relay never holds a token back).
    public func start() {
        let t = Thread { [self] in loop() }
        t.name = "head-end deliveries"
        thread = t
        t.start()
        let r = Thread { [self] in readingLoop() }
        r.name = "head-end readings"
        r.start()
    }

    /// Delivers due tokens now instead of at the next second.
    public func kick() { wake.signal() }

    /// Stops after the current round.
    public func stop() {
        lock.withLock { stopped = true }
        wake.signal()
    }

    func loop() {
        while !lock.withLock({ stopped }) {
            _ = wake.wait(timeout: .now() + 1)
            if lock.withLock({ stopped }) { return }
            headEnd.deliverDue()
        }
    }

    func readingLoop() {
        var nextReading = readingInterval > 0 ? Int64(Date().timeIntervalSince1970) : Int64.max
        while !lock.withLock({ stopped }) {
            let now = Int64(Date().timeIntervalSince1970)
            if now >= nextReading {
                nextReading = now + readingInterval
                _ = try? headEnd.readAll(now: now)
            }
            everyPass?()
            Thread.sleep(forTimeInterval: 1)
        }
    }
}
