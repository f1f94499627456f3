import Crypto
import Foundation
import STSAuditLog
import STSBatch
import STSCard
import STSCardEmulator
import STSCrypto
import STSMeter
import STSMeterSimulator
import STSSupport
import STSTariff
import STSTokenFormat
import STSVending

/// The parsers that read untrusted input, each as a function of arbitrary bytes that must
/// never crash: whatever the bytes, a value or a clear error. libFuzzer (`stsfuzz` built with
/// `-sanitize=fuzzer,address`) and the property harness (`stsfuzz TARGET --seconds N`) drive
/// them; `Fixtures/fuzz/TARGET/` holds their seeds and every crasher ever found, replayed by
/// the tests.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// 20 typed digits (with the separators people type) entered into a meter.
    case tokenDigits = "token-digits"
    /// One line of `stsvend token batch` input.
    case batchLine = "batch-line"
    /// An exported audit log (one or more lines) through the offline verifier, with keys.
    case auditLine = "audit-line"
    /// A meter state file, then a token and a consumption run on the meter it describes.
    case meterState = "meter-state"
    /// A sequence of APDUs sent to the card application (length-prefixed).
    case cardAPDU = "card-apdu"
    /// A card image file (the emulator's state), then a session on the card it describes.
    case cardImage = "card-image"
    /// A time-of-use rate table file (`sim init --tou-file`), then its prices over a week and a
    /// currency meter run under it.
    case touTable = "tou-table"
    /// A console form body (`application/x-www-form-urlencoded`): its fields, their round trip,
    /// and the money and kWh readers the sell and tariff forms feed them to.
    case consoleForm = "console-form"
    /// A DLMS/COSEM connection's APDUs (2-byte length each; the first byte of each picks the
    /// client SAP) into the meter's server session, and each APDU into every decoder.
    case dlmsAPDU = "dlms-apdu"
    /// A point-of-sale message body (Electrum Prepaid Utility v3) read as every request and advice.
    case pusiMessage = "pusi-message"

    /// Runs the target on one input. Returns normally for every input; a crash is a bug.
    public func run(_ data: [UInt8]) {
        switch self {
        case .tokenDigits: Fixture.tokenDigits(data)
        case .batchLine: Fixture.batchLine(data)
        case .auditLine: Fixture.auditLine(data)
        case .meterState: Fixture.meterState(data)
        case .cardAPDU: Fixture.cardAPDU(data)
        case .cardImage: Fixture.cardImage(data)
        case .touTable: Fixture.touTable(data)
        case .consoleForm: Fixture.consoleForm(data)
        case .dlmsAPDU: DLMSFixture.run(data)
        case .pusiMessage: PUSIFixture.run(data)
        }
    }
}

/// What each target feeds its input into, built once.
enum Fixture {
    static let vendingKey = try! VendingKey(hex: "ABABABABABABABAB949494949494949401234567")
    static let profile = try! MeterProfile(
        pan: MeterPAN("600727000000000009"), supplyGroup: SupplyGroupCode("201457"), tariffIndex: TariffIndex(1),
        revision: KeyRevisionNumber(1), keyType: .unique, expiry: KeyExpiryNumber(255), baseDate: .y2014, derivation: .dkga04, encryption: .sta)
    static let meter = SimulatedMeter(state: try! MeterState(keyParameters: profile.keyParameters, expiry: profile.expiry, vendingKey: vendingKey))
    static let now: Int64 = 1_800_000_000

    static func consoleForm(_ data: [UInt8]) {
        let fields = FormFields.parse(data)
        // What was read encodes to a form that reads back the same.
        let again = FormFields.parse(Array(fields.map { FormFields.encode($0.key) + "=" + FormFields.encode($0.value) }.joined(separator: "&").utf8))
        guard again == fields else { fatalError("form fields do not survive their own encoding") }
        for (_, v) in fields.prefix(16) {
            _ = try? Money(v)
            _ = try? EnergyPrice(v)
        }
    }

    static func touTable(_ data: [UInt8]) {
        guard let table = try? TimeOfUseTable(fileBytes: data) else { return }
        // A table that parsed prints to a text that parses to the same table.
        guard (try? TimeOfUseTable(text: table.fileText)) == table else { fatalError("a TOU table does not survive its own file form") }
        for hour in stride(from: Int64(0), to: 7 * 24, by: 1) { _ = table.price(at: now + hour * 3_600, tariffRate: hour % 2 == 0 ? nil : UInt16(hour)) }
        var m = SimulatedMeter(state: meter.state, timeOfUse: table)
        _ = m.run(loadWatts: 5_000, seconds: 86_400, start: now)
    }

    static func tokenDigits(_ data: [UInt8]) {
        var m = meter
        let text = String(decoding: data.prefix(256), as: UTF8.self)
        _ = try? TokenNumber(text)
        _ = m.enter(text, at: now)
    }

    nonisolated(unsafe) static var batch = BatchVending(keys: ["k0": try! VendingKey(hex: "ABABABABABABABAB"), "k1": vendingKey],
                                                        now: { 1_800_000_000 })

    static func batchLine(_ data: [UInt8]) {
        var out = JSONLineWriter()
        data.withUnsafeBufferPointer { _ = batch.process(line: $0, lineNumber: 1, into: &out) }
    }

    static let signer = try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(0..<32) as [UInt8])
    static let verifier = AuditVerifier(publicKey: signer.publicKey, keys: ["k1": vendingKey])

    static func auditLine(_ data: [UInt8]) {
        _ = verifier.verify(data)
    }

    static func meterState(_ data: [UInt8]) {
        guard var m = try? StateFile.decode(data, path: "fuzz") else { return }
        _ = m.enter("12345678901234567890", at: now)
        _ = m.run(loadWatts: 1_000, seconds: 3_600, start: now)
    }

    /// A personalised card with one purchase, so commands reach the secure files.
    static let card: CardApplication = {
        let master = try! IssuerMasterKey(hex: "000102030405060708090A0B0C0D0E0F")
        var session = CardSession(channel: InMemoryCard(CardApplication(image: .init(serial: [1, 2, 3, 4, 5, 6, 7, 8]))))
        _ = try! CardVending.issue(&session, master: master, meter: profile.pan, issuer: 1)
        return session.channel.card
    }()

    static func cardAPDU(_ data: [UInt8]) {
        var app = card
        var i = 0
        while i < data.count {
            let n = Int(data[i])
            i += 1
            let end = min(data.count, i + n)
            if let c = CommandAPDU(bytes: Array(data[i..<end])) { _ = app.process(c) }
            i = end
        }
    }

    static func cardImage(_ data: [UInt8]) {
        guard let image = try? CardImageFile.decode(data, name: "fuzz") else { return }
        var app = CardApplication(image: image)
        _ = app.process(CommandAPDU(ins: 0xA4, p1: 4, p2: 0x0C, data: stsCardAID))
        for sfi in 1...3 { _ = app.process(CommandAPDU(ins: 0xB0, p1: 0x80 | UInt8(sfi), p2: 0, le: 0)) }
    }
}
