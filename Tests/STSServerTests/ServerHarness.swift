import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import STSCrypto
import STSMeter
import STSServer
import STSStation
import STSSupport
import STSTariff
import STSTokenFormat
import Testing

/// A station in a temporary folder behind an in-process server: a supervisor (sue, with her
/// authenticator secret), an operator (olly) and an auditor (ada), a vending key, a block
/// tariff and two meters. Every exchange is checked against the OpenAPI document.
final class ServerHarness: @unchecked Sendable {
    let folder: String
    let station: Station
    let server: StationServer
    let secret: [UInt8]
    let password = "correct horse battery"
    static let pan1 = "600727000000000009", pan2 = "600727000000000181", pan3 = "600727000000000264"
    static let key = "0123456789ABCDEF"
    static let validator = try! OpenAPIValidator()
    private let lock = NSLock()
    private var _clock: Int64 = 1_795_000_000
    private var _exercised: Set<String> = []

    /// The documented operations this harness has called ("POST /api/v1/sales").
    var exercised: Set<String> { lock.lock(); defer { lock.unlock() }; return _exercised }

    var clock: Int64 { lock.lock(); defer { lock.unlock() }; return _clock }
    let logBox: LogBox
    /// The server's request log lines so far.
    var logLines: [String] { logBox.lines }

    init(loginFailuresPerMinute: Int = 30) throws {
        folder = NSTemporaryDirectory() + "server-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let (s, secret) = try Station.create(path: folder + "/station.db", admin: "sue", password: Array(password.utf8), now: 1_795_000_000, passwordCost: 10)
        station = s
        self.secret = secret
        let box = LogBox()
        logBox = box
        var configuration = StationServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.loginFailuresPerMinute = loginFailuresPerMinute
        server = StationServer(station: s, configuration: configuration, logLines: { box.append($0) })
        station.now = { [unowned self] in self.clock }
        let sue = try supervisorActor()
        _ = try station.addUser(name: "olly", role: .operator, password: Array(password.utf8), by: sue, passwordCost: 10)
        _ = try station.addUser(name: "ada", role: .auditor, password: Array(password.utf8), by: sue, passwordCost: 10)
        _ = try station.importKey(name: "k1", bytes: Hex.decode(Self.key) ?? [], attributes: Self.attributes(), by: try supervisorActor())
        _ = try station.importKey(name: "k2", bytes: Hex.decode("FEDCBA9876543210") ?? [], attributes: Self.attributes(krn: 2), by: try supervisorActor())
        try station.setTariff(Tariff(name: "home", blocks: [TariffBlock(upToTenths: 500, price: EnergyPrice("1.20")), TariffBlock(upToTenths: nil, price: EnergyPrice("1.80"))],
                                     freeBasicTenthsPerMonth: 100, vatBasisPoints: 1500), by: try supervisorActor())
        try station.addMeter(MeterRegistration(pan: MeterPAN(Self.pan1), keyName: "k1", tariff: "home", customer: "Alice Mbeki", arrears: Money("20.00")), by: sue)
        try station.addMeter(MeterRegistration(pan: MeterPAN(Self.pan2), keyName: "k1", tariff: "home", customer: "Li Wei"), by: sue)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// Moves the clock one TOTP step and returns the supervisor's code for it.
    func nextCode() -> String {
        lock.lock()
        _clock += 30
        let t = _clock
        lock.unlock()
        return TOTP(secret: secret).code(atUnixSeconds: t)
    }

    /// Moves the station's clock.
    func advance(_ seconds: Int64) { lock.withLock { _clock += seconds } }

    func supervisorActor() throws -> Actor {
        try station.authenticate(user: "sue", password: Array(password.utf8), totp: nextCode(), action: "test")
    }

    static func attributes(krn: Int = 1) throws -> VendingKeyAttributes {
        VendingKeyAttributes(derivation: .dkga02, encryption: .sta, baseDate: try BaseDate(year: 2014), supplyGroup: try SupplyGroupCode("123456"),
                             revision: try KeyRevisionNumber(krn), keyType: try KeyType(2), tariffIndex: try TariffIndex(1), expiry: try KeyExpiryNumber(255))
    }

    /// The meter a registered PAN would be: its decoder key derived from the vending key.
    static func meter(_ pan: String, keyHex: String = key, krn: Int = 1) throws -> MeterDecoder {
        let profile = try attributes(krn: krn).meter(try MeterPAN(pan))
        return MeterDecoder(state: try MeterState(keyParameters: profile.keyParameters, expiry: profile.expiry, vendingKey: try VendingKey(hex: keyHex)))
    }

    /// An answer: status, headers, body bytes and the body as JSON (`.null` when it is not JSON).
    struct Answer {
        var status: Int
        var headers: HTTPFields
        var bytes: [UInt8]
        var json: JSON
        subscript(_ k: String) -> JSON? { json[k] }
        var code: String? { json["error"]?["code"]?.string }
    }

    /// Sends one request, checks the exchange against the OpenAPI document (a mismatch is a
    /// test failure) and returns the answer.
    func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil,
              token: String? = nil, headers extra: [(String, String)] = [], validate: Bool = true,
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> Answer {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        for (k, v) in extra { headers.append(HTTPField(name: HTTPField.Name(k)!, value: v)) }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        var buffer = response.body
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let json = (try? JSON.parse(String(decoding: bytes, as: UTF8.self))) ?? .null
        if let (template, _) = Self.validator.match(String(path.split(separator: "?").first ?? "")) {
            lock.withLock { _ = _exercised.insert("\(method.rawValue) \(template)") }
        }
        if validate {
            for p in Self.validator.check(method: method.rawValue, path: path, requestBody: body.map { Array($0.utf8) }, status: Int(response.status.code),
                                          contentType: response.headers[.contentType], responseBody: bytes) {
                Issue.record(Comment(rawValue: p), sourceLocation: sourceLocation)
            }
        }
        return Answer(status: Int(response.status.code), headers: response.headers, bytes: bytes, json: json)
    }

    /// Logs in and returns the bearer token.
    func logIn(_ client: any TestClientProtocol, _ user: String, password: String? = nil, totp: Bool = false) async throws -> String {
        let code = totp ? ", \"totp\": \"\(nextCode())\"" : ""
        let r = try await call(client, .post, "/api/v1/session", "{\"user\": \"\(user)\", \"password\": \"\(password ?? self.password)\"\(code)}")
        #expect(r.status == 201, "login of \(user): \(String(decoding: r.bytes, as: UTF8.self))")
        return r["token"]?.string ?? ""
    }
}

/// The server's request log, collected for the tests.
final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    func append(_ s: String) { lock.lock(); _lines.append(s); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return _lines }
}
