import Foundation
import STSDLMS
import STSMeter
import STSSupport

/// One simulated meter behind a DLMS/COSEM endpoint: its state file, its `.dlms` file and the
/// objects it serves (see Specs/dlms.md for every attribute and method). Every change is saved
/// before the answer leaves, so a killed simulator never forgets an accepted token or a relay
/// operation. Thread-safe: connections on several event loops share it through one lock.
public final class DLMSMeter: CosemDevice, ServerSecurityContext, @unchecked Sendable {
    /// The meter state file.
    public let statePath: String
    let lock = NSLock()
    var meter: SimulatedMeter
    var document: DLMSDocument
    var lastAcceptedCounter: UInt32
    var nextCounter: UInt32
    /// The load the meter is drawing now, in watts (the consumption profile sets it).
    public var loadWatts: Int64 = 0
    /// The clock (seconds since 1970); tests and the fleet's fast clock replace it.
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    public let systemTitle: [UInt8]
    public let keys: SecurityKeys
    /// The most load-profile captures kept (two weeks of quarter hours).
    public static let profileLimit = 96 * 14
    /// How far ahead counters are reserved on disk (one write per this many APDUs).
    static let counterReservation: UInt32 = 1000

    /// Opens the meter at `statePath` and its `.dlms` file.
    public init(statePath: String) throws {
        self.statePath = statePath
        meter = try StateFile.load(statePath)
        document = try DLMSFile.load(statePath)
        guard let t = Hex.decode(document.system_title), let ak = Hex.decode(document.authentication_key),
              let ek = Hex.decode(document.block_cipher_key), let k = SecurityKeys(blockCipherKey: ek, authenticationKey: ak) else {
            throw DLMSMeterError.badKeys(DLMSFile.path(for: statePath))
        }
        systemTitle = t
        keys = k
        lastAcceptedCounter = document.client_counter_floor
        nextCounter = document.server_counter_reserved
    }

    /// Creates the `.dlms` file for a meter state file and returns the head-end's keys.
    public static func setUp(statePath: String) throws -> DLMSClientKeys { try DLMSFile.create(for: statePath) }

    /// A copy of the simulated meter as it is now.
    public var snapshot: SimulatedMeter { lock.withLock { meter } }

    // MARK: security context

    public var lastAcceptedClientCounter: UInt32 { lock.withLock { lastAcceptedCounter } }

    public func accept(clientCounter counter: UInt32) throws(DLMSError) {
        lock.lock(); defer { lock.unlock() }
        guard counter > lastAcceptedCounter else { throw .replayed(counter: counter, lastAccepted: lastAcceptedCounter) }
        // The floor must not wrap: a client this close to 2³² needs new keys.
        guard counter < UInt32.max - Self.counterReservation else { throw .tooLarge("client invocation counter exhausted: renew the keys") }
        if counter >= document.client_counter_floor {
            // After a crash the meter resumes at the floor: nothing accepted before it can replay.
            var d = document
            d.client_counter_floor = counter &+ Self.counterReservation
            guard (try? DLMSFile.save(d, for: statePath)) != nil else { throw .transport("cannot save the invocation counter") }
            document = d
        }
        lastAcceptedCounter = counter
    }

    public func nextServerCounter() throws(DLMSError) -> UInt32 {
        lock.lock(); defer { lock.unlock() }
        guard nextCounter < UInt32.max - Self.counterReservation else { throw .tooLarge("meter invocation counter exhausted") }
        if nextCounter >= document.server_counter_reserved {
            var d = document
            d.server_counter_reserved = nextCounter + Self.counterReservation
            guard (try? DLMSFile.save(d, for: statePath)) != nil else { throw .transport("cannot save the invocation counter") }
            document = d
        }
        defer { nextCounter += 1 }
        return nextCounter
    }

    // MARK: changes

    /// Applies `change` to the meter as the state file holds it (under the file's lock, so a
    /// `sim enter` or `sim run` beside the server loses nothing) and saves before returning.
    func change<T>(_ change: (inout SimulatedMeter) -> T) throws -> T {
        var updated: SimulatedMeter?
        let result = try StateFile.update(statePath) { (m: inout SimulatedMeter) -> T in
            let r = change(&m)
            updated = m
            return r
        }
        if let updated { meter = updated }
        return result
    }

    /// Draws the current load for `seconds` ending now, capturing the load profile at every
    /// quarter hour passed; saves both files. The fleet calls this on its tick.
    public func advance(seconds: Int64, loadWatts load: Int64) throws {
        let end = now()
        try advance(from: end - seconds, to: end) { _ in load }
    }

    /// Draws `load(t)` watts (evaluated per quarter hour) from `start` to `end`, capturing the
    /// load profile at every quarter hour passed; saves both files once.
    public func advance(from start: Int64, to end: Int64, load: (Int64) -> Int64) throws {
        try lock.withLock {
            var d = document
            var t = start
            // After a gap (the simulator was stopped) the profile resumes at the current quarter.
            if d.profile_until == nil || (d.profile_until ?? 0) + 900 < t { d.profile_until = t - t % 900 }
            if let until = d.profile_until, until > t { t = until }
            var m = try StateFile.load(statePath)
            while t < end {
                let boundary = (d.profile_until ?? t) + 900
                let stop = min(end, boundary)
                let watts = load(t)
                loadWatts = watts
                _ = m.run(loadWatts: watts, seconds: stop - t, start: t)
                t = stop
                if stop == boundary {
                    d.load_profile.append([boundary, Int64(Self.energyWh(m))])
                    d.profile_until = boundary
                }
            }
            if d.load_profile.count > Self.profileLimit { d.load_profile.removeFirst(d.load_profile.count - Self.profileLimit) }
            let drawn = m
            try StateFile.update(statePath) { current in
                // Keep what others changed meanwhile (a token entered); take the consumption.
                if current.decoder.state.tidMemory == drawn.decoder.state.tidMemory { current = drawn }
            }
            try DLMSFile.save(d, for: statePath)
            meter = try StateFile.load(statePath)
            document = d
        }
    }

    /// Logs a meter event the simulator raises (magnetic field, cover open, power failure, tamper).
    public func raise(_ kind: String, _ detail: String, at time: Int64? = nil) throws {
        try lock.withLock {
            let t = time ?? now()
            _ = try change { m in
                if kind == "tamper" { m.detectTamper(at: t) } else { m.log(t, kind, detail) }
            }
        }
    }

    /// Lifetime active energy import in Wh.
    static func energyWh(_ m: SimulatedMeter) -> UInt64 {
        m.consumedTenths &* 100 &+ UInt64(max(0, m.wattSecondsPending) / 3600)
    }
}
