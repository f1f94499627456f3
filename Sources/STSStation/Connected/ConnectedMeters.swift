import Foundation
import STSAuditLog
import STSSupport

/// Where a connected meter listens and the suite 0 secrets the head-end needs for it.
public struct MeterLink: Sendable, Equatable {
    public var pan: String
    public var host: String
    public var port: Int
    /// The meter's system title (8 bytes).
    public var serverTitle: [UInt8]
    /// The head-end's system title for this meter (8 bytes).
    public var clientTitle: [UInt8]
    /// The global unicast encryption key (16 bytes).
    public var blockCipherKey: [UInt8]
    /// The authentication key (16 bytes).
    public var authenticationKey: [UInt8]
    /// `auto`, or `held-open` after a supervisor's remote disconnect (no automatic reconnect).
    public var supply: String
    /// The next invocation counter the head-end believes the meter expects (0: read it first).
    public var counter: UInt32

    public init(pan: String, host: String, port: Int, serverTitle: [UInt8], clientTitle: [UInt8], blockCipherKey: [UInt8],
                authenticationKey: [UInt8], supply: String = "auto", counter: UInt32 = 0) {
        self.pan = pan; self.host = host; self.port = port; self.serverTitle = serverTitle; self.clientTitle = clientTitle
        self.blockCipherKey = blockCipherKey; self.authenticationKey = authenticationKey; self.supply = supply; self.counter = counter
    }
}

/// A token delivery to a connected meter: one per sale, retried until the meter answers.
public struct TokenDelivery: Sendable, Equatable {
    public var saleID: Int64
    public var pan: String
    public var tokens: [String]
    /// `pending`, `delivered` (the meter accepted), `refused` (the meter answered with a refusal), `dead` (gave up).
    public var state: String
    public var attempts: Int
    public var nextAttemptAt: Int64
    /// The meter's results, one per token (`accept`, `used`, …).
    public var result: String
    public var lastError: String
}

extension Station {
    /// How many failed attempts park a delivery in the dead-letter list.
    public static let deliveryAttempts = 12

    /// Registers `link.pan` (already a station meter) as connected (supervisor with second factor:
    /// its keys are as sensitive as a vending key). The keys are stored sealed under the KEK;
    /// the log records the address and system title only.
    public func connectMeter(_ link: MeterLink, by actor: Actor) throws {
        try actor.require([.supervisor], to: "connect meters", secondFactor: true)
        guard link.serverTitle.count == 8, link.clientTitle.count == 8, link.blockCipherKey.count == 16, link.authenticationKey.count == 16 else {
            throw StationError.invalid(.file, "DLMS keys: 8-byte system titles and 16-byte keys")
        }
        guard !link.host.isEmpty, link.host.utf8.count <= 253, (1...65_535).contains(link.port) else {
            throw StationError.invalid(.address, "a meter's DLMS address is HOST:PORT")
        }
        try write { tx in
            try tx.requireCurrentKEK()
            _ = try tx.meter(link.pan)
            var secret = link.clientTitle + link.blockCipherKey + link.authenticationKey
            defer { for i in secret.indices { secret[i] = 0 } }
            let sealed = Data(try kek.seal(secret, purpose: "meter-link:\(link.pan)"))
            try tx.db.execute(sql: """
                INSERT INTO meter_links (pan, host, port, sealed, server_title, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(pan) DO UPDATE SET host = excluded.host, port = excluded.port, sealed = excluded.sealed,
                    server_title = excluded.server_title
                """, arguments: [link.pan, link.host, link.port, sealed, Hex.string(link.serverTitle), tx.now])
            try tx.log(.meterConnect, actor: actor.name) { w in
                w.field("meter", link.pan)
                w.field("address", "\(link.host):\(link.port)")
                w.field("system_title", Hex.string(link.serverTitle))
            }
        }
    }

    /// The connected meters' PANs.
    public func connectedMeters() throws -> [String] {
        try read { tx in try String.fetchAll(tx.db, sql: "SELECT pan FROM meter_links ORDER BY pan") }
    }

    /// Whether `pan` is connected (without opening its keys).
    public func isConnected(_ pan: String) throws -> Bool {
        try read { tx in try Bool.fetchOne(tx.db.cachedStatement(sql: "SELECT 1 FROM meter_links WHERE pan = ?"), arguments: [pan]) ?? false }
    }

    /// A connected meter's link with its keys opened (for the head-end only; never shown).
    public func meterLink(_ pan: String) throws -> MeterLink? {
        try read { tx in
            guard let r = try Row.fetchOne(tx.db.cachedStatement(sql: "SELECT * FROM meter_links WHERE pan = ?"), arguments: [pan]) else { return nil }
            var secret = try kek.open(r["sealed"] as Data, purpose: "meter-link:\(pan)")
            defer { for i in secret.indices { secret[i] = 0 } }
            guard secret.count == 40, let title = Hex.decode(r["server_title"] as String), title.count == 8 else {
                throw StationError.tampered("the DLMS keys of meter \(pan)")
            }
            return MeterLink(pan: pan, host: r["host"], port: r["port"], serverTitle: title, clientTitle: Array(secret[0..<8]),
                             blockCipherKey: Array(secret[8..<24]), authenticationKey: Array(secret[24..<40]),
                             supply: r["supply"], counter: UInt32(clamping: r["counter"] as Int64))
        }
    }

    /// Reserves `count` invocation counters for talking to `pan`, starting at `atLeast` or
    /// above every counter reserved before (by any process); returns the first. The head-end
    /// uses only counters it reserved, so none is ever used twice (a GCM nonce reused).
    public func reserveCounters(_ pan: String, atLeast: UInt64, count: UInt64) throws -> UInt32 {
        try write { tx in
            guard let current = try Int64.fetchOne(tx.db, sql: "SELECT counter FROM meter_links WHERE pan = ?", arguments: [pan]) else {
                throw StationError.notFound("connected meter \(pan)")
            }
            let start = max(UInt64(max(0, current)), atLeast)
            guard start + count < UInt64(UInt32.max) else { throw StationError.refused(.meterCounterExhausted(meter: pan)) }
            try tx.db.execute(sql: "UPDATE meter_links SET counter = ? WHERE pan = ?", arguments: [Int64(start + count), pan])
            return UInt32(start)
        }
    }

    /// Checks that `actor` may switch supplies remotely (supervisor with second factor).
    public func authorizeRemoteSwitch(_ actor: Actor) throws {
        try actor.require([.supervisor], to: "switch supplies remotely", secondFactor: true)
    }

    /// Logs a remote switch the head-end carried out; a disconnect holds the supply open (no
    /// automatic reconnect after a sale) until a supervisor reconnects it.
    public func recordRemoteSwitch(pan: String, connect: Bool, reason: String, by actor: Actor) throws {
        try authorizeRemoteSwitch(actor)
        try write { tx in
            try tx.db.execute(sql: "UPDATE meter_links SET supply = ? WHERE pan = ?", arguments: [connect ? "auto" : "held-open", pan])
            guard tx.db.changesCount == 1 else { throw StationError.notFound("connected meter \(pan)") }
            try tx.log(.remoteSwitch, actor: actor.name) { w in
                w.field("meter", pan)
                w.field("relay", connect ? "closed" : "open")
                w.field("reason", String(reason.prefix(200)))
            }
        }
    }
}
