import ArgumentParser
import Foundation
import STSAuditLog
import STSStation
import STSTariff
import STSTokenFormat

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

    func run() throws {
        try runStation {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let db = dir + "/station.db"
            let passwordFile = dir + "/supervisor.password"
            let password = Array("demo-password-\(UUID().uuidString.prefix(8))".utf8)
            let station: Station
            let meter = try MeterPAN(meterNumber: "600727000000000009")
            if FileManager.default.fileExists(atPath: db) {
                station = try Station.open(path: db)
            } else {
                try PrivateFile.create(passwordFile, contents: password + [10])
                let (s, secret) = try Station.create(path: db, name: "demo station", admin: "supervisor", password: password)
                try PrivateFile.create(dir + "/supervisor.totp", contents: Array((Base32.encode(secret) + "\n").utf8))
                station = s
                // Each supervisor step takes a fresh TOTP code (codes are single use): step the clock.
                let clock = DemoClock(station.now())
                station.now = { clock.seconds }
                func supervisor() throws -> Actor {
                    clock.seconds += 30
                    return try station.authenticate(user: "supervisor", password: password,
                                                    totp: TOTP(secret: secret).code(atUnixSeconds: clock.seconds), action: "demo")
                }
                let attributes = VendingKeyAttributes(
                    derivation: .dkga02, encryption: .sta, baseDate: try BaseDate(year: 2014), supplyGroup: try SupplyGroupCode("123456"),
                    revision: try KeyRevisionNumber(1), keyType: try KeyType(2), tariffIndex: try TariffIndex(1), expiry: try KeyExpiryNumber(255))
                try station.importKey(name: "demo-key", bytes: [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF], attributes: attributes, by: supervisor())
                try station.setTariff(Tariff(name: "residential", blocks: [TariffBlock(upToTenths: 500, price: EnergyPrice("1.20")),
                                                                            TariffBlock(upToTenths: nil, price: EnergyPrice("1.80"))],
                                             freeBasicTenthsPerMonth: 100, vatBasisPoints: 1500), by: supervisor())
                try station.addMeter(MeterRegistration(pan: meter, keyName: "demo-key", tariff: "residential", customer: "Demo Tenant",
                                                       arrears: try Money("20.00")), by: supervisor())
                station.now = { Int64(Date().timeIntervalSince1970) }
                printLine("created a demo station in \(db) (supervisor password in \(passwordFile))")
            }
            var stored = try readPassword(passwordFile)
            defer { for i in stored.indices { stored[i] = 0 } }
            let who = try station.authenticate(user: "supervisor", password: stored, action: "demo sell")
            let receipt = try station.sell(SaleRequest(meter: meter, amount: .money(try Money(money)), requestID: UUID().uuidString.lowercased()), by: who)
            printReceipt(receipt, json: false)
            let log = dir + "/log.jsonl"
            unlink(log)
            let (entries, head) = try station.exportLog(to: log, by: who)
            let report = AuditVerifier(publicKey: station.publicKey).verify(Array(FileManager.default.contents(atPath: log) ?? Data()))
            printLine("log: \(entries) entries exported to \(log), head \(head); offline verification: \(report.isClean ? "clean" : "\(report.problems.count) problems")")
            printLine("next: stsvend sell --db \(db) --user supervisor --password-file \(passwordFile) --meter \(meter) --money 50")
        }
    }
}

final class DemoClock: @unchecked Sendable {
    var seconds: Int64
    init(_ s: Int64) { seconds = s }
}
