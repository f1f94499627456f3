import Dispatch
import Foundation
import STSDLMS
import STSStation

/// The station's head-end: delivers sold tokens to connected meters through their token
/// gateways, reads registers, load profiles and events, and switches supplies. Blocking calls
/// on a bounded pool of threads; the invocation counter of each meter is kept in memory and
/// read again from the meter (public client) after a restart or a refusal.
public final class HeadEnd: @unchecked Sendable {
    public let station: Station
    /// Seconds allowed for a connection and each answer.
    public var timeout: Double
    /// How many meters are talked to at once.
    public let concurrency: Int
    /// The notification channels alerts raised by reading rounds are queued for.
    public var alertChannels: [String] = []
    let counters = NSLock()
    var windows: [String: CounterWindow] = [:]
    let links = NSLock()
    var linkCache: [String: MeterLink] = [:]
    let meterLocks = NSLock()
    var locks: [String: NSLock] = [:]

    public init(station: Station, concurrency: Int = 32, timeout: Double = 5) {
        self.station = station
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
    }

    /// The endpoint of a connected meter (keys decrypted once per process).
    func link(_ pan: String) throws -> MeterLink {
        if let l = links.withLock({ linkCache[pan] }) { return l }
        guard let l = try station.meterLink(pan) else { throw StationError.notFound("connected meter \(pan)") }
        links.withLock { linkCache[pan] = l }
        return l
    }

    /// Forgets cached links (after a meter is connected again with new keys).
    public func forgetLinks() { links.withLock { linkCache = [:] } }

    /// Runs `body` in a management association with `pan`; one fresh counter read and retry
    /// when the meter refuses the association (another client, or a restarted head-end).
    public func withAssociation<T>(_ pan: String, _ body: (MeterAssociation) throws -> T) throws -> T {
        try withMeterLock(pan) { try associated(pan, body) }
    }

    func associated<T>(_ pan: String, _ body: (MeterAssociation) throws -> T) throws -> T {
        let l = try link(pan)
        guard let keys = SecurityKeys(blockCipherKey: l.blockCipherKey, authenticationKey: l.authenticationKey) else {
            throw StationError.tampered("the DLMS keys of meter \(pan)")
        }
        let e = MeterEndpoint(host: l.host, port: l.port, serverTitle: l.serverTitle, clientTitle: l.clientTitle, keys: keys)
        let association = try open(pan, e)
        defer {
            association.release()
            let next = association.nextCounter
            counters.withLock { windows[pan]?.next = next }
        }
        return try body(association)
    }

    /// Opens the association with a counter from this process's reserved window; a meter that
    /// refuses it (its counter is ahead: another head-end) gets a fresh window above its own.
    func open(_ pan: String, _ e: MeterEndpoint) throws -> MeterAssociation {
        let start = try counterStart(pan, e, fresh: false)
        do {
            return try MeterAssociation(e, counter: start, timeout: timeout)
        } catch {
            // Counters an attempt may have spent are never used again.
            counters.withLock { windows[pan]?.next = start &+ 100 }
            guard case .associationRejected = error else { throw error }
            return try MeterAssociation(e, counter: try counterStart(pan, e, fresh: true), timeout: timeout)
        }
    }

    /// The first invocation counter for the next association. Counters come from windows of
    /// ``counterWindow`` reserved in the station database (`meter_links.counter`), so no two
    /// processes and no restart ever use one twice: a GCM nonce is never reused. The meter's
    /// public counter (unauthenticated) only ever raises the window, never lowers it.
    func counterStart(_ pan: String, _ e: MeterEndpoint, fresh: Bool) throws -> UInt32 {
        if !fresh, let w = counters.withLock({ windows[pan] }), w.next <= w.limit - 1000 { return w.next }
        let meter = try MeterAssociation.readCounter(e, timeout: timeout)
        guard meter < UInt32.max - 2 * Self.counterWindow else { throw DLMSError.tooLarge("the meter's invocation counter is exhausted: renew its keys") }
        let floor = max(UInt64(meter) + 1, UInt64(counters.withLock { windows[pan]?.next } ?? 0))
        let start = try station.reserveCounters(pan, atLeast: floor, count: UInt64(Self.counterWindow))
        counters.withLock { windows[pan] = CounterWindow(next: start, limit: start + Self.counterWindow) }
        return start
    }

    /// How many invocation counters a process reserves at a time.
    static let counterWindow: UInt32 = 10_000
    struct CounterWindow { var next: UInt32; var limit: UInt32 }

    /// Runs `work` for every item, `concurrency` at a time on threads of their own (the work
    /// blocks on sockets, so a pool sized by cores would leave the network idle); results in
    /// input order.
    public func fanOut<I: Sendable, O: Sendable>(_ items: [I], _ work: @escaping @Sendable (I) -> O) -> [O] {
        let results = ResultSlots<O>(count: items.count)
        let next = ResultSlots<Int>(count: 1)
        next.set(0, 0)
        let group = DispatchGroup()
        for _ in 0..<min(concurrency, max(1, items.count)) {
            group.enter()
            let t = Thread {
                while true {
                    let i: Int = next.take()
                    guard i < items.count else { break }
                    results.set(i, work(items[i]))
                }
                group.leave()
            }
            t.stackSize = 512 * 1024
            t.start()
        }
        group.wait()
        return results.values()
    }

    /// Serialises the head-end's work on one meter (one association at a time, one counter).
    func withMeterLock<T>(_ pan: String, _ body: () throws -> T) rethrows -> T {
        let l = meterLocks.withLock { () -> NSLock in
            if let l = locks[pan] { return l }
            let l = NSLock(); locks[pan] = l; return l
        }
        l.lock(); defer { l.unlock() }
        return try body()
    }
}

/// Slots filled by concurrent workers.
final class ResultSlots<T>: @unchecked Sendable {
    let lock = NSLock()
    var slots: [T?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.withLock { slots[i] = v } }
    func values() -> [T] { lock.withLock { slots.compactMap { $0 } } }
}

extension ResultSlots where T == Int {
    /// Takes the next index (slot 0 is the counter).
    func take() -> Int { lock.withLock { let v = slots[0] ?? 0; slots[0] = v + 1; return v } }
}
