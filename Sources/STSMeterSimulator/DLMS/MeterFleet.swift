import Foundation
import NIOCore
import NIOPosix
import STSDLMS
import STSSupport

/// The fleet manifest (`FLEET/fleet.json`): each meter's PAN, state file, keys file and port.
public struct FleetManifest: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var pan: String
        /// The state file, relative to the fleet folder.
        public var state: String
        /// The head-end keys file (0600), relative to the fleet folder.
        public var keys: String
        public var port: Int
        public init(pan: String, state: String, keys: String, port: Int) { self.pan = pan; self.state = state; self.keys = keys; self.port = port }
    }
    public var format = "sts-meter-fleet"
    public var version = 1
    public var host: String
    public var meters: [Entry]

    public init(host: String, meters: [Entry]) { self.host = host; self.meters = meters }

    public static func load(_ folder: String) throws -> FleetManifest {
        guard let data = FileManager.default.contents(atPath: folder + "/fleet.json") else {
            throw DLMSMeterError.io("\(folder)/fleet.json cannot be read: create the fleet with 'stsvend sim fleet create --folder \(folder) …'")
        }
        guard data.count < 16 << 20 else { throw DLMSMeterError.io("fleet.json is too large") }
        let m = try JSONDecoder().decode(FleetManifest.self, from: data)
        guard m.format == "sts-meter-fleet", m.version == 1, m.meters.count <= 100_000,
              m.meters.allSatisfy({ (0...65_535).contains($0.port) && !$0.state.contains("/") && !$0.keys.contains("/") }) else {
            throw DLMSMeterError.io("\(folder)/fleet.json is not a fleet manifest")
        }
        return m
    }

    public func save(_ folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(self).write(to: URL(fileURLWithPath: folder + "/fleet.json"), options: .atomic)
    }
}

extension FleetManifest {
    /// Creates a fleet folder: for meter i (0 ..< count) the state file `PAN.json` from
    /// `meter(i)`, its DLMS keys (`PAN.json.dlms`) and the head-end's copy (`PAN.keys.json`,
    /// 0600), and `fleet.json` with port `basePort + i` (0: picked by the first run). Returns the
    /// manifest and each meter's head-end keys. A folder that holds a fleet is refused.
    @discardableResult
    public static func create(folder: String, count: Int, basePort: Int, host: String,
                              meter: (Int) throws -> SimulatedMeter, progress: (Int) -> Void = { _ in }) throws -> (FleetManifest, [DLMSClientKeys]) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: folder + "/fleet.json") else { throw DLMSMeterError.io("\(folder) already holds a fleet") }
        var entries: [Entry] = []
        var keys: [DLMSClientKeys] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        for i in 0..<count {
            let m = try meter(i)
            let pan = m.state.pan.description
            let path = folder + "/\(pan).json"
            try StateFile.create(m, at: path)
            let k = try DLMSMeter.setUp(statePath: path)
            try OwnerOnlyFile.create(folder + "/\(pan).keys.json", contents: Array(try encoder.encode(k)) + [0x0A])
            entries.append(Entry(pan: pan, state: "\(pan).json", keys: "\(pan).keys.json", port: basePort == 0 ? 0 : basePort + i))
            keys.append(k)
            progress(i + 1)
        }
        let manifest = FleetManifest(host: host, meters: entries)
        try manifest.save(folder)
        return (manifest, keys)
    }
}

/// Many simulated meters in one process, one port each on one event-loop group, each drawing
/// its household profile in (optionally accelerated) time and now and then raising an event.
public final class MeterFleet: @unchecked Sendable {
    public let meters: [DLMSMeter]
    public private(set) var manifest: FleetManifest
    let folder: String
    let profiles: [ConsumptionProfile]
    var channels: [Channel] = []
    let group: MultiThreadedEventLoopGroup
    var timer: DispatchSourceTimer?
    /// Chance per meter and simulated hour of a tamper-class event (magnetic, cover, power failure).
    public var eventsPerMeterHour = 0.002

    /// Opens every meter of the manifest in `folder` (raising the open-file limit to its hard
    /// maximum: a thousand listening sockets pass the usual 1024).
    public init(folder: String, threads: Int = 2) throws {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        self.folder = folder
        manifest = try FleetManifest.load(folder)
        meters = try manifest.meters.map { try DLMSMeter(statePath: folder + "/" + $0.state) }
        profiles = manifest.meters.map { ConsumptionProfile(pan: $0.pan) }
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    /// Fills empty load profiles with `days` of history up to now. So that a demo has
    /// something to flag, every seventh meter saw a strong magnetic field two days ago, every
    /// ninth had its terminal cover opened, and (in fleets of seven or more) the seventh was
    /// bypassed for the last day: its meter saw a twentieth of the household's load.
    public func backfill(days: Int64, now: Int64) throws {
        for (i, (m, p)) in zip(meters, profiles).enumerated() where m.document.load_profile.isEmpty {
            let bypassFrom = i == 6 ? now - 86_400 : Int64.max
            try m.advance(from: now - days * 86_400, to: now) { t in t >= bypassFrom ? p.watts(at: t) / 20 : p.watts(at: t) }
            if days >= 2, i % 7 == 3 { try m.raise("magnetic", "strong magnetic field detected", at: now - 2 * 86_400) }
            if days >= 2, i % 9 == 5 { try m.raise("cover-open", "terminal cover opened", at: now - 36 * 3600) }
        }
    }

    /// Listens on every meter's port. Port 0 in the manifest picks a free port, which is then
    /// written back to `fleet.json` (so a station can be connected to the running fleet).
    public func start() async throws {
        var picked = false
        for (i, (m, e)) in zip(meters, manifest.meters).enumerated() {
            let channel = try await DLMSListener.start(m, host: manifest.host, port: e.port, group: group)
            channels.append(channel)
            if e.port == 0, let port = channel.localAddress?.port {
                manifest.meters[i].port = port
                picked = true
            }
        }
        if picked { try manifest.save(folder) }
    }

    /// Draws consumption every `tick` seconds of real time.
    public func run(tick: Int64) {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "fleet.tick"))
        t.schedule(deadline: .now() + .seconds(Int(tick)), repeating: .seconds(Int(tick)))
        let step = tick
        t.setEventHandler { [self] in
            for (m, p) in zip(meters, profiles) {
                let end = m.now()
                try? m.advance(from: end - step, to: end, load: p.watts(at:))
                if Double.random(in: 0..<1) < eventsPerMeterHour * Double(step) / 3600 {
                    let kind = ["magnetic", "cover-open", "power-failure"].randomElement() ?? "magnetic"
                    try? m.raise(kind, kind == "magnetic" ? "strong magnetic field detected" : kind == "cover-open" ? "terminal cover opened" : "power failure")
                }
            }
        }
        t.resume()
        timer = t
    }

    /// Stops listening.
    public func stop() {
        timer?.cancel()
        for c in channels { try? c.close().wait() }
        try? group.syncShutdownGracefully()
    }
}
