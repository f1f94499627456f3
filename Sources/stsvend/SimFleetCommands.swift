import ArgumentParser
import Foundation
import STSBatch
import STSCrypto
import STSVending
import STSMeter
import STSMeterSimulator
import STSSupport
import STSTokenFormat

/// `stsvend sim fleet …`: many connected meters in one process.
struct SimFleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Many simulated DLMS/COSEM meters in one process, one port each (create them, then run them).",
        subcommands: [SimFleetCreateCommand.self, SimFleetRunCommand.self])
}

struct SimFleetCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create COUNT meters with consecutive meter numbers, their DLMS keys and FOLDER/fleet.json.",
        discussion: "Each meter gets FOLDER/PAN.json (state), PAN.json.dlms and PAN.keys.json (head-end keys, 0600), and port BASE+i.")
    @Option(help: "The fleet folder (created; must not hold a fleet).") var folder: String
    @Option(help: "How many meters (1–10000).") var count: Int
    @Option(help: "The first meter's 10-digit serial (its Luhn digit is added); the others follow.") var firstSerial: String
    @Option(help: "The first port; meter i listens on BASE+i.") var basePort: Int = 40_000
    @Option(help: "The host the meters listen on.") var host = "127.0.0.1"
    @Option(help: "Supply group code, 6 digits.") var sgc: String
    @Option(help: "Tariff index, 0–99.") var ti: Int = 1
    @Option(help: "Key revision number.") var krn: Int = 1
    @Option(name: .customLong("base-date"), help: "Base date year of the key.") var baseDate: Int = 2014
    @Option(help: "Decoder key generation algorithm: 2 or 4.") var dkga: Int = 4
    @Option(help: "Encryption algorithm: 7 (STA) or 11 (MISTY1).") var ea: Int = 7
    @Option(name: .customLong("credit-kwh"), help: "Credit each meter starts with, in kWh (as if bought before it was connected).") var creditKWh: Int64 = 0
    @Option(name: .customLong("vending-key-file"), help: "File holding the vending key in hex (mode 0600), or '-' for stdin.") var vendingKeyFile: String

    func validate() throws {
        guard (0...100_000).contains(creditKWh) else { throw ValidationError("--credit-kwh takes 0 to 100000") }
        guard (1...10_000).contains(count) else { throw ValidationError("--count takes 1 to 10000") }
        guard basePort == 0 || ((1...65_535).contains(basePort) && basePort + count - 1 <= 65_535) else {
            throw ValidationError("--base-port + --count must stay below 65536 (0: free ports picked by 'fleet run')")
        }
        guard firstSerial.count == 10, let f = UInt64(firstSerial), f + UInt64(count) <= 10_000_000_000 else {
            throw ValidationError("--first-serial takes 10 digits, low enough for --count meters")
        }
    }

    func run() throws {
        try runReporting {
            let vendingKey = try SecretFile.key(vendingKeyFile) { try VendingKey(bytes: $0) }
            guard let first = UInt64(firstSerial) else { return }
            let credit = creditKWh * 10
            try Self.create(folder: folder, count: count, firstSerial: first, basePort: basePort, host: host,
                            profile: { try MeterOptions.profile(pan: $0, sgc: sgc, ti: ti, krn: krn, kt: 2, ken: 255, baseDate: baseDate, dkga: dkga, ea: ea) },
                            vendingKey: vendingKey, creditTenths: { _ in credit })
            printLine("\(count) meters in \(folder) on \(host):" + (basePort == 0 ? "free ports ('fleet run' writes them to fleet.json)" : "\(basePort)–\(basePort + count - 1)"))
        }
    }

    /// Creates a fleet folder of meters with consecutive numbers from `first`, keys derived from
    /// `vendingKey` under `profile`, each starting with `creditTenths(i)`.
    static func create(folder: String, count: Int, firstSerial first: UInt64, basePort: Int, host: String,
                       profile: (String) throws -> MeterProfile, vendingKey: VendingKey, creditTenths: (Int) -> Int64) throws {
        try FleetManifest.create(folder: folder, count: count, basePort: basePort, host: host, meter: { i in
            guard let number = MeterPAN.meterNumber(serial: first + UInt64(i)) else { throw ValidationError("serials run past 10 digits") }
            let p = try profile(number)
            var meter = SimulatedMeter(state: MeterState(keyParameters: p.keyParameters, expiry: p.expiry,
                                                         decoderKey: try p.decoderKey(vendingKey: vendingKey), policy: MeterPolicy()))
            let credit = creditTenths(i)
            if credit > 0 { meter.startWithCredit(tenths: credit) }
            return meter
        }, progress: { n in
            if count >= 100, n % 100 == 0 { FileHandle.standardError.write(Data("created \(n)/\(count)\n".utf8)) }
        })
    }
}

struct SimFleetRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve every meter of a fleet over DLMS/COSEM; each draws its household profile and now and then raises an event.",
        discussion: "Prints 'dlms fleet listening: N meters on HOST:FIRST-LAST' when ready; runs until SIGTERM or SIGINT.")
    @Option(help: "The fleet folder.") var folder: String
    @Option(help: "Days of load-profile history to draw first for meters that have none.") var historyDays: Int64 = 0
    @Option(help: "How often (seconds) consumption is applied and saved.") var tick: Int64 = 60
    @Option(help: "Tamper-class events per meter and hour (magnetic field, cover open, power failure).") var eventRate = 0.002

    func validate() throws {
        guard (0...14).contains(historyDays) else { throw ValidationError("--history-days takes 0 to 14") }
        guard (1...3600).contains(tick) else { throw ValidationError("--tick takes 1 to 3600 seconds") }
        guard eventRate.isFinite, (0...1).contains(eventRate) else { throw ValidationError("--event-rate takes 0 to 1") }
    }

    func run() throws {
        try runReporting {
            let fleet = try MeterFleet(folder: folder)
            fleet.eventsPerMeterHour = eventRate
            if historyDays > 0 { try fleet.backfill(days: historyDays, now: Int64(Date().timeIntervalSince1970)) }
            try BlockingTask.run { try await fleet.start() }
            let ports = fleet.manifest.meters.map(\.port)
            printLine("dlms fleet listening: \(ports.count) meters on \(fleet.manifest.host):\(ports.min() ?? 0)-\(ports.max() ?? 0) (ports in \(folder)/fleet.json)")
            fleet.run(tick: tick)
            waitForTermination()
            fleet.stop()
        }
    }
}

