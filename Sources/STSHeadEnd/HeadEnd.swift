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
    var nextCounter: [String: UInt32] = [:]
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
        let association = try open(e, cached: counters.withLock { nextCounter[pan] })
        defer {
            association.release()
            let next = association.nextCounter
            counters.withLock { nextCounter[pan] = next }
        }
        return try body(association)
    }

    func open(_ e: MeterEndpoint, cached: UInt32?) throws -> MeterAssociation {
        guard let cached else { return try MeterAssociation(e, counter: nil, timeout: timeout) }
        do {
            return try MeterAssociation(e, counter: cached, timeout: timeout)
        } catch {
            guard case .associationRejected = error else { throw error }
            return try MeterAssociation(e, counter: nil, timeout: timeout)
        }
    }

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
