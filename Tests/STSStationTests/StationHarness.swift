import Foundation
import STSCrypto
import STSMeter
import STSStation
import STSTariff
import STSTokenFormat
import STSVending

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

    init() throws {
        folder = NSTemporaryDirectory() + "station-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (s, secret) = try Station.create(path: folder + "/station.db", admin: "sue", password: password, now: clock, passwordCost: 10)
        station = s
        supervisorSecret = secret
        station.now = { [unowned self] in self.clock }
        let sue = try supervisor()
        _ = try station.addUser(name: "olly", role: .operator, password: password, by: sue, passwordCost: 10)
        _ = try station.addUser(name: "ada", role: .auditor, password: password, by: sue, passwordCost: 10)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

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
