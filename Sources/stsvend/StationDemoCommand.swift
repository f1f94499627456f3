import ArgumentParser
import Foundation
import STSCrypto
import STSMeterSimulator
import STSStation
import STSTokenFormat
import STSTariff

/// `stsvend station demo`: a working station in one command.
struct StationDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a demo station on an embedded SQLite file, sell a token, export and verify the log.",
        discussion: """
        Everything goes into --dir (default ./stsvend-demo): station.db, station.db.pub, station.db.kek, \
        the demo supervisor's password and TOTP secret (mode 0600). The demo vending key is a public \
        test key, never a production key. Run it again to sell another token on the same station.
        """)
    @Option(help: "Folder for the demo station.") var dir = "stsvend-demo"
    @Option(help: "Money to sell for.") var money = "100.00"
    @Flag(help: "Then run the station server and its operator console on the demo station (stop with Ctrl-C).") var serve = false
    @Option(help: "With --serve: address to listen on, HOST:PORT (port 0: a free one).") var listen = "127.0.0.1:8080"
    @Option(help: "Connected meters the demo simulates over DLMS/COSEM (FOLDER/fleet, a week of history; 0: none). Made when the demo station is created.")
    var fleet = 20
    @OptionGroup var connected: ConnectedMeterOptions

    func validate() throws {
        guard (0...2000).contains(fleet) else { throw ValidationError("--fleet takes 0 to 2000 meters") }
        try connected.check()
    }

    func run() throws {
        try runStation {
            let fleetFolder = dir + "/fleet", count = fleet
            let demo = try DemoStation(folder: dir) { station, admin in
                guard count > 0 else { return }
                try DemoFleet.create(folder: fleetFolder, count: count, station: station, by: admin)
            }
            if demo.created { printLine("created a demo station in \(demo.database) (supervisor password in \(demo.passwordFile))") }
            var stored = try readPassword(demo.passwordFile)
            defer { for i in stored.indices { stored[i] = 0 } }
            let who = try demo.station.authenticate(user: demo.supervisor, password: stored, action: "demo sell")
            let sale = try demo.sell(try Money(money), by: who)
            printReceipt(sale.receipt, json: false)
            let report = sale.verification
            printLine("log: \(sale.entries) entries exported to \(demo.logFile), head \(sale.head); offline verification: \(report.isClean ? "clean" : "\(report.problems.count) problems")")
            guard serve else {
                printLine("next: stsvend sell --db \(demo.database) --user \(demo.supervisor) --password-file \(demo.passwordFile) --meter \(demo.meter) --money 50")
                return
            }
            let folder = dir
            let meters = try DemoFleet.start(folder: fleetFolder)
            defer { meters?.stop() }
            if let meters { printLine("fleet: \(meters.meters.count) connected meters served over DLMS/COSEM on \(meters.manifest.host) (ports in \(fleetFolder)/fleet.json)") }
            try ServeCommand.serve(demo.station, listen: try ListenAddress(listen), tlsCert: nil, tlsKey: nil, reader: nil, connected: connected) { url in
                printLine("listening on \(url)")
                printLine("console: \(url)/ — log in as 'operator' (password in \(folder)/operator.password) to sell, or as 'supervisor' (\(folder)/supervisor.password, TOTP secret in \(folder)/supervisor.totp) for tariffs, keys and users")
            }
        }
    }
}

/// The demo's connected meters: a simulator fleet in the demo folder, registered at the station.
enum DemoFleet {
    /// Creates the fleet (a week of history, credit that lasts some meters longer than others),
    /// starts it so each meter has its port, registers and connects every meter.
    static func create(folder: String, count: Int, station: Station, by admin: Actor) throws {
        let key = try VendingKey(bytes: [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF])
        try SimFleetCreateCommand.create(folder: folder, count: count, firstSerial: 300_000_000, basePort: 0, host: "127.0.0.1",
                                         profile: { try MeterOptions.profile(pan: $0, sgc: "123456", ti: 1, krn: 1, kt: 2, ken: 255, baseDate: 2014, dkga: 2, ea: 7) },
                                         vendingKey: key, creditTenths: { i in Int64(60 + (i * 37) % 240) * 10 })
        let fleet = try MeterFleet(folder: folder)
        try fleet.backfill(days: 7, now: Int64(Date().timeIntervalSince1970))
        try BlockingTask.run { try await fleet.start() }
        defer { fleet.stop() }
        for (i, e) in fleet.manifest.meters.enumerated() {
            _ = try station.addMeter(MeterRegistration(pan: try MeterPAN(meterNumber: e.pan), keyName: "demo-key", tariff: "residential",
                                                       customer: "Resident \(i + 1)", address: "Block B, flat \(i + 1), 12 Garden Road"), by: admin)
            try station.connectMeter(try meterLink(pan: e.pan, address: try ListenAddress("\(fleet.manifest.host):\(e.port)"), keysFile: folder + "/" + e.keys), by: admin)
            try station.setAlertContact(pan: e.pan, email: "resident\(i + 1)@example.com", phone: "+25470000\(String(format: "%04d", i + 1))",
                                        lowCreditTenths: 100, by: admin)
        }
    }

    /// Serves the demo fleet (nil when the demo has none).
    static func start(folder: String) throws -> MeterFleet? {
        guard FileManager.default.fileExists(atPath: folder + "/fleet.json") else { return nil }
        let fleet = try MeterFleet(folder: folder)
        try BlockingTask.run { try await fleet.start() }
        fleet.run(tick: 60)
        return fleet
    }
}
