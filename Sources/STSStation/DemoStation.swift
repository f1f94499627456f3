import Foundation
import STSAuditLog
import STSTariff
import STSTokenFormat

/// A working station in a folder, for a first run: `station.db` (with `.pub` and `.kek`), a
/// supervisor whose password and TOTP secret are in `supervisor.password` and `supervisor.totp`
/// (mode 0600), the public demo vending key, a block tariff and one meter with arrears. The demo
/// key is a public test key, never a production key. Opening the folder again reuses the station.
public struct DemoStation {
    /// The station, opened or just created.
    public let station: Station
    /// True when this call created the station (and its files).
    public let created: Bool
    /// The station database, `FOLDER/station.db`.
    public let database: String
    /// The supervisor's password file, `FOLDER/supervisor.password`.
    public let passwordFile: String
    /// The supervisor's name.
    public let supervisor = "supervisor"
    /// The demo meter.
    public let meter: MeterPAN
    /// The log each demo sale exports, `FOLDER/log.jsonl`.
    public let logFile: String

    /// Opens the demo station in `folder`, creating the folder and the station when missing;
    /// `extra` runs once, at creation, with the set-up supervisor (second factor given), for
    /// what a front adds to the demo (a fleet of connected meters).
    public init(folder: String, extra: ((Station, Actor) throws -> Void)? = nil) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        database = folder + "/station.db"
        passwordFile = folder + "/supervisor.password"
        logFile = folder + "/log.jsonl"
        meter = try MeterPAN(meterNumber: "600727000000000009")
        created = !FileManager.default.fileExists(atPath: database)
        station = created ? try Self.create(folder: folder, database: database, passwordFile: passwordFile, meter: meter, supervisor: supervisor, extra: extra)
            : try Station.open(path: database)
    }

    /// What one demo sale did: its receipt, and the log exported and verified offline after it.
    public struct Sale {
        /// The sale's receipt.
        public var receipt: SaleReceipt
        /// Entries in the exported log.
        public var entries: Int64
        /// The exported log's last hash.
        public var head: String
        /// The offline verification of the exported log.
        public var verification: AuditReport
    }

    /// Sells `money` to the demo meter (a fresh request id), then exports the log to ``logFile``
    /// and verifies it offline with the station's public key, as an auditor would.
    public func sell(_ money: Money, by actor: Actor) throws -> Sale {
        let receipt = try station.sell(SaleRequest(meter: meter, amount: .money(money), requestID: UUID().uuidString.lowercased()), by: actor)
        unlink(logFile)
        let (entries, head) = try station.exportLog(to: logFile, by: actor)
        let verification = AuditVerifier(publicKey: station.publicKey).verify(Array(FileManager.default.contents(atPath: logFile) ?? Data()), head: head)
        return Sale(receipt: receipt, entries: entries, head: head, verification: verification)
    }

    private static func create(folder: String, database: String, passwordFile: String, meter: MeterPAN, supervisor name: String,
                               extra: ((Station, Actor) throws -> Void)?) throws -> Station {
        let password = Array("demo-password-\(UUID().uuidString.prefix(8))".utf8)
        try PrivateFile.create(passwordFile, contents: password + [10])
        let (station, secret) = try Station.create(path: database, name: "demo station", admin: name, password: password)
        try PrivateFile.create(folder + "/supervisor.totp", contents: Array((Base32.encode(secret) + "\n").utf8))
        // One login with the second factor for every setup step, at the real time: the code's
        // step is the last one used, so the supervisor's authenticator works right after the demo.
        let admin = try station.authenticate(user: name, password: password, totp: TOTP(secret: secret).code(atUnixSeconds: station.now()), action: "demo")
        let attributes = VendingKeyAttributes(
            derivation: .dkga02, encryption: .sta, baseDate: try BaseDate(year: 2014), supplyGroup: try SupplyGroupCode("123456"),
            revision: try KeyRevisionNumber(1), keyType: try KeyType(2), tariffIndex: try TariffIndex(1), expiry: try KeyExpiryNumber(255))
        try station.importKey(name: "demo-key", bytes: [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF], attributes: attributes, by: admin)
        try station.setTariff(Tariff(name: "residential", blocks: [TariffBlock(upToTenths: 500, price: EnergyPrice("1.20")),
                                                                    TariffBlock(upToTenths: nil, price: EnergyPrice("1.80"))],
                                     freeBasicTenthsPerMonth: 100, vatBasisPoints: 1500), by: admin)
        try station.addMeter(MeterRegistration(pan: meter, keyName: "demo-key", tariff: "residential", customer: "Demo Tenant",
                                               arrears: try Money("20.00"), address: "Block A, flat 1, 12 Garden Road"), by: admin)
        // A few more customers for the console: one with old debt recovered at 20 %, one owing a fixed monthly charge.
        for (pan, customer, debt, fixed, address) in [
            ("600727000000000181", "Li Wei", "0.00", "0.00", "幸福小区 3 栋 201 室"), ("600727000000000264", "Amina Otieno", "45.00", "0.00", "Block A, flat 7, 12 Garden Road"),
            ("600727000000000348", "Carlos Mendes", "0.00", "5.00", "Shop 2, Market Street"),
        ] {
            try station.addMeter(MeterRegistration(pan: try MeterPAN(pan), keyName: "demo-key", tariff: "residential", customer: customer,
                                                   debt: try Money(debt), debtRecoveryBasisPoints: debt == "0.00" ? 0 : 2_000,
                                                   fixedMonthly: try Money(fixed), address: address), by: admin)
        }
        // A counter operator (password and TOTP secret beside the supervisor's).
        let operatorPassword = Array("demo-operator-\(UUID().uuidString.prefix(8))".utf8)
        let operatorSecret = try station.addUser(name: "operator", role: .operator, password: operatorPassword, by: admin)
        try PrivateFile.create(folder + "/operator.password", contents: operatorPassword + [10])
        try PrivateFile.create(folder + "/operator.totp", contents: Array((Base32.encode(operatorSecret) + "\n").utf8))
        // A point-of-sale aggregator (the Electrum interface at /prepaidutility/v3): HTTP Basic
        // user corner-shop, its secret beside the passwords.
        let posSecret = try station.addPOSClient(POSClient(name: "corner-shop", currency: "710", minimum: try Money("5.00"), maximum: try Money("2000.00")),
                                                 by: admin)
        try PrivateFile.create(folder + "/pos-client.secret", contents: Array((posSecret + "\n").utf8))
        try extra?(station, admin)
        return station
    }
}
