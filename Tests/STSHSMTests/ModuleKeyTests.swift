import CPKCS11
import Crypto
import Foundation
import STSCrypto
import STSHSM
import STSTestFixtures
import STSTokenFormat
import Testing

/// Vending keys in SoftHSM2 (issue 17, first part): derivation inside the module against every
/// public vector, custody checked through the module and by OpenSC's pkcs11-tool.
@Suite(.serialized)
struct ModuleKeyTests {
    static func session() throws -> PKCS11Session {
        guard let token = SoftHSMToken.shared else { throw PKCS11Error.moduleNotLoadable(path: SoftHSMToken.module, why: "SoftHSM2 is not installed") }
        return try Shared.module().session(token: token.label, pinFile: token.pinFile)
    }

    /// The module, loaded once per process.
    enum Shared {
        nonisolated(unsafe) static var loaded: PKCS11Module?
        static func module() throws -> PKCS11Module {
            if let loaded { return loaded }
            _ = SoftHSMToken.shared
            let m = try PKCS11Module(path: SoftHSMToken.module)
            loaded = m
            return m
        }
    }

    static func parameters(_ i: [String: JSONValue]) throws -> DecoderKeyParameters {
        DecoderKeyParameters(
            derivation: try KeyDerivationAlgorithm(code: i["dkga"]?.int ?? 0), pan: try MeterPAN(i["meter_pan"]?.string ?? ""),
            supplyGroup: try SupplyGroupCode(i["sgc"]?.string ?? ""), tariffIndex: try TariffIndex(i["ti"]?.int ?? -1),
            revision: try KeyRevisionNumber(i["krn"]?.int ?? -1), keyType: try KeyType(i["key_type"]?.int ?? -1),
            baseDate: try BaseDate(year: i["base_date"]?.int ?? 0), encryption: try EncryptionAlgorithm(code: i["ea"]?.int ?? 0))
    }

    /// Every vector naming a vending key and its decoder key.
    static let cases: [(id: String, inputs: [String: JSONValue], decoderKey: String)] = PublicVectors.all.compactMap { v in
        guard v.inputs["vending_key"] != nil, let dk = v.expected["decoder_key"]?.string ?? v.intermediate["decoder_key"]?.string else { return nil }
        return (v.id, v.inputs, dk)
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex), let b = UInt8(hex[i..<j], radix: 16) { out.append(b); i = j }
        return out
    }

    @Test("every public DKGA04 vector: the decoder key computed inside the module is the vector's")
    func dkga04() throws {
        let s = try Self.session()
        let vectors = Self.cases.filter { $0.inputs["dkga"]?.int == 4 }
        #expect(vectors.count >= 10)
        var keys: [String: ModuleVendingKey] = [:]
        for v in vectors {
            let hex = v.inputs["vending_key"]?.string ?? ""
            let key = try keys[hex] ?? ModuleVendingKey.storeDKGA04(Self.bytes(hex), label: "dkga04-\(keys.count)-\(UUID().uuidString.prefix(6))", session: s)
            keys[hex] = key
            let dk = try key.deriveDKGA04(Self.parameters(v.inputs))
            #expect(dk == (try DecoderKey(hex: v.decoderKey)), "\(v.id)")
        }
    }

    @Test("every public DKGA02 vector: DES3 with K‖K‖K in the module is single DES, so E = DES(VK, X) comes from the module")
    func dkga02() throws {
        let s = try Self.session()
        let vectors = Self.cases.filter { $0.inputs["dkga"]?.int == 2 }
        #expect(!vectors.isEmpty)
        for v in vectors.prefix(20) {
            let hex = v.inputs["vending_key"]?.string ?? ""
            let key = try ModuleVendingKey.storeDKGA02(Self.bytes(hex), label: "dkga02-\(UUID().uuidString.prefix(8))", session: s)
            let p = try Self.parameters(v.inputs)
            let x = DKGA02.panBlock(p.pan, keyType: p.keyType) ^ DKGA02.controlBlock(p)
            let vk = Self.bytes(hex).reduce(0) { $0 << 8 | UInt64($1) }
            let e = try key.dkga02Encryption(p)
            #expect(e == DataEncryptionStandard.encrypt(x, key: vk), "\(v.id)")
            // The decoder key needs ⊕ VK as well: the module alone cannot finish DKGA02 (no XOR mechanism).
            #expect(DecoderKey(e ^ x ^ vk) == (try DecoderKey(hex: v.decoderKey)), "\(v.id)")
        }
    }

    @Test("custody: the key is sensitive and not extractable; reading its value fails, through the module and through OpenSC's pkcs11-tool")
    func custody() throws {
        let s = try Self.session()
        let key = try ModuleVendingKey.storeDKGA04(Self.bytes("ABABABABABABABAB949494949494949401234567"), label: "custody-check", session: s)
        let c = try key.custody()
        #expect(c.sensitive && !c.extractable)
        #expect(throws: PKCS11Error.call(function: "C_GetAttributeValue", rv: UInt(CKR_ATTRIBUTE_SENSITIVE))) { try key.readValue() }
        guard let token = SoftHSMToken.shared, FileManager.default.fileExists(atPath: "/usr/bin/pkcs11-tool") else { return }
        let pin = (try String(contentsOfFile: token.pinFile, encoding: .utf8)).trimmingCharacters(in: .newlines)
        let conf = token.folder + "/softhsm2.conf"
        let (status, out, _) = try ChildProcess.run("/usr/bin/pkcs11-tool", ["--module", SoftHSMToken.module, "--token-label", token.label,
                                                                             "--login", "--pin", pin, "--list-objects", "--type", "secrkey"],
                                                    environment: ["SOFTHSM2_CONF": conf])
        #expect(status == 0)
        let block = out.components(separatedBy: "Secret Key Object").first { $0.contains("custody-check") } ?? ""
        // pkcs11-tool lists "extractable" among a key's access flags when CKA_EXTRACTABLE is true.
        #expect(block.contains("Access:") && block.contains("sensitive") && !block.contains(" extractable"), "\(block)")
        #expect(!block.contains("unwrap") && !block.contains("wrap,"), "a vending key wraps nothing: \(block)")
        let (readStatus, _, _) = try ChildProcess.run("/usr/bin/pkcs11-tool", ["--module", SoftHSMToken.module, "--token-label", token.label,
                                                                               "--login", "--pin", pin, "--read-object", "--type", "secrkey", "--label", "custody-check"],
                                                      environment: ["SOFTHSM2_CONF": conf])
        #expect(readStatus != 0, "pkcs11-tool cannot read the key's value")
    }

    @Test("key check values: the banking DES KCV (DES(0123456789ABCDEF, 0) = D5D44FF720683D0D), the module computes the same from its copy")
    func checkValues() throws {
        #expect(KeyCheckValue.of(Self.bytes("0123456789ABCDEF")) == "D5D44F")
        let s = try Self.session()
        let des = try ModuleVendingKey.storeDKGA02(Self.bytes("0123456789ABCDEF"), label: "kcv-des-\(UUID().uuidString.prefix(6))", session: s)
        #expect(try KeyCheckValue.of(des, bits: 64) == "D5D44F")
        let hmacKey = Self.bytes("ABABABABABABABAB949494949494949401234567")
        let hmac = try ModuleVendingKey.storeDKGA04(hmacKey, label: "kcv-hmac-\(UUID().uuidString.prefix(6))", session: s)
        #expect(try KeyCheckValue.of(hmac, bits: 160) == KeyCheckValue.of(hmacKey))
    }

    @Test("a two-component ceremony reproduces a key whose KCV is known; a wrong component, one alone, or two equal ones are refused")
    func ceremony() throws {
        let key = Self.bytes("ABABABABABABABAB949494949494949401234567")
        let c1 = Self.bytes("0F1E2D3C4B5A69788796A5B4C3D2E1F001122334")
        let c2 = zip(key, c1).map { $0 ^ $1 }
        let combined = try KeyCheckValue.combine([c1, c2], expected: [KeyCheckValue.of(c1), KeyCheckValue.of(c2)])
        #expect(combined == key && KeyCheckValue.of(combined) == KeyCheckValue.of(key))
        var wrong = c2
        wrong[0] ^= 1
        #expect(throws: KeyCeremonyError.componentCheckValue(index: 2)) { try KeyCheckValue.combine([c1, wrong], expected: [KeyCheckValue.of(c1), KeyCheckValue.of(c2)]) }
        #expect(throws: KeyCeremonyError.tooFewComponents) { try KeyCheckValue.combine([key], expected: []) }
        #expect(throws: KeyCeremonyError.identicalComponents) { try KeyCheckValue.combine([c1, c1], expected: []) }
        #expect(throws: KeyCeremonyError.componentLength) { try KeyCheckValue.combine([c1, Array(c2.prefix(8))], expected: []) }
    }

    @Test("an Ed25519 log-signing key made in the module: its signatures verify with the exported public key (swift-crypto)")
    func ed25519() throws {
        let s = try Self.session()
        let (key, publicKey) = try s.generateEd25519(label: "log-\(UUID().uuidString.prefix(6))")
        let message = Array("checkpoint 41 head 9f2c… station 3f1c9a52".utf8)
        let signature = try s.signEd25519(key: key, message)
        let verifier = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        #expect(signature.count == 64 && verifier.isValidSignature(signature, for: message))
        #expect(!verifier.isValidSignature(signature, for: message + [0]))
        #expect(try !s.bool(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), of: key) && s.bool(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), of: key))
    }

    @Test("a wrong PIN is CKR_PIN_INCORRECT by name; an unknown token and a missing module are named too")
    func errors() throws {
        guard let token = SoftHSMToken.shared else { return }
        let wrong = token.folder + "/wrong.pin"
        FileManager.default.createFile(atPath: wrong, contents: Data("00000000\n".utf8), attributes: [.posixPermissions: 0o600])
        let m = try Shared.module()
        #expect(throws: PKCS11Error.call(function: "C_Login", rv: UInt(CKR_PIN_INCORRECT))) { try m.session(token: token.label, pinFile: wrong) }
        #expect(PKCS11Error.name(UInt(CKR_PIN_INCORRECT)) == "CKR_PIN_INCORRECT")
        #expect(throws: PKCS11Error.tokenNotFound(label: "no-such-token")) { try m.session(token: "no-such-token", pinFile: token.pinFile) }
        #expect(throws: PKCS11Error.self) { try PKCS11Module(path: "/nonexistent/libpkcs11.so") }
        let open = token.folder + "/open.pin"
        FileManager.default.createFile(atPath: open, contents: Data("1234\n".utf8), attributes: [.posixPermissions: 0o644])
        #expect(throws: PKCS11Error.self) { try m.session(token: token.label, pinFile: open) }
    }
}
