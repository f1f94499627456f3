import Foundation
import STSCrypto
import STSMeter
import STSStation
import STSTariff
import STSTokenFormat
import STSVending
import STSTestFixtures
import Testing

/// Which store a harness station lives on.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A station in a temporary folder with a settable clock, a supervisor, an operator and an
/// auditor, and helpers that act as them.
final class StationHarness: @unchecked Sendable {
    let folder: String
    let station: Station
    var clock: Int64 = 1_795_000_000
    let supervisorSecret: [UInt8]
    let password = Array("correct horse battery".utf8)
    static let k1 = "0123456789ABCDEF"
    static let k2 = "FEDCBA9876543210"

    /// The database: the SQLite file's path or the PostgreSQL URL.
    let database: String
    let kekFile: String
    let databasePasswordFile: String?

    init(store: StoreKind = .sqlite) throws {
        folder = NSTemporaryDirectory() + "station-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch store {
        case .sqlite:
            database = folder + "/station.db"
            kekFile = database + ".kek"
            databasePasswordFile = nil
        case .postgres:
            guard let server = PostgresServer.shared else { throw PostgresServerError.unavailable }
            database = try server.newDatabase()
            kekFile = folder + "/station.kek"
            databasePasswordFile = server.passwordFile
        }
        let (s, secret) = try Station.create(path: database, admin: "sue", password: password, kekPath: kekFile, now: clock, passwordCost: 10,
                                             databasePasswordFile: databasePasswordFile, publicKeyOut: folder + "/station.pub")
        station = s
        supervisorSecret = secret
        station.now = { [unowned self] in self.clock }
        let sue = try supervisor()
        _ = try station.addUser(name: "olly", role: .operator, password: password, by: sue, passwordCost: 10)
        _ = try station.addUser(name: "ada", role: .auditor, password: password, by: sue, passwordCost: 10)
    }

    deinit {
        station.close()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The same store opened again, as another process (or another station) would.
    func reopen(stationName: String? = nil) throws -> Station {
        try Station.open(path: database, kekPath: kekFile, stationName: stationName, passwordFile: databasePasswordFile)
    }

    /// The supervisor with a fresh second-factor code (the clock moves one TOTP step each time).
    func supervisor() throws -> Actor {
        clock += 30
        return try station.authenticate(user: "sue", password: password, totp: TOTP(secret: supervisorSecret).code(atUnixSeconds: clock), action: "test")
    }

    func user(_ name: String) throws -> Actor { try station.authenticate(user: name, password: password, action: "test") }

    static func attributes(krn: Int = 1, baseDate: Int = 2014, ken: Int = 255) throws -> VendingKeyAttributes {
        VendingKeyAttributes(derivation: .dkga02, encryption: .sta, baseDate: try BaseDate(year: baseDate), supplyGroup: try SupplyGroupCode("123456"),
                             revision: try KeyRevisionNumber(krn), keyType: try KeyType(2), tariffIndex: try TariffIndex(1), expiry: try KeyExpiryNumber(ken))
    }

    /// A meter decoder holding the decoder key a meter registered on `keyHex` holds.
    static func meter(_ pan: String, keyHex: String = k1, attributes: VendingKeyAttributes? = nil) throws -> MeterDecoder {
        let a = try attributes ?? Self.attributes()
        let profile = a.meter(try MeterPAN(meterNumber: pan))
        return MeterDecoder(state: try MeterState(keyParameters: profile.keyParameters, expiry: profile.expiry, vendingKey: try VendingKey(hex: keyHex)))
    }
}
