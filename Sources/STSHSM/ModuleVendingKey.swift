import CPKCS11
import STSCrypto
import STSTokenFormat

/// A vending key held in a PKCS#11 module as a sensitive, non-extractable secret key, and the
/// decoder keys derived from it by asking the module to compute (Specs/hsm.md):
///
/// * DKGA04 (HMAC-SHA-256 with the 160-bit key): stored as a `CKK_GENERIC_SECRET` of the 20 key
///   bytes and 12 zero bytes (SoftHSM2 refuses `CKM_SHA256_HMAC` keys under 32 bytes; HMAC pads a
///   short key with zeros to its block, so the MAC is identical), used with `CKM_SHA256_HMAC`: the
///   whole derivation happens in the module.
/// * DKGA02 (DES with the 64-bit key): stored as a `CKK_DES3` key K‖K‖K (SoftHSM2 2.6.1 lists
///   `CKM_DES_ECB` but refuses to encrypt with it; DES3-EDE with three equal parts is single DES).
///   The module computes `E = DES(VK, X)`; DKGA02's `DK = E ⊕ X ⊕ VK` then needs the key itself,
///   which PKCS#11 offers only through `CKM_XOR_BASE_AND_DATA` — a mechanism SoftHSM2 lacks. So a
///   DKGA02 key in such a module yields `E` only; see ``dkga02Encryption(_:)``.
public struct ModuleVendingKey: Sendable {
    /// The key's label on the token.
    public let label: String
    let session: PKCS11Session
    let object: CK_OBJECT_HANDLE

    /// The key labelled `label` on the session's token.
    public init(label: String, session: PKCS11Session) throws(PKCS11Error) {
        self.label = label
        self.session = session
        object = try session.secretKey(label: label)
    }

    /// Stores a 160-bit DKGA04 vending key in the module under `label` (sensitive, not extractable).
    public static func storeDKGA04(_ key: [UInt8], label: String, session: PKCS11Session) throws(PKCS11Error) -> ModuleVendingKey {
        precondition(key.count == 20, "a DKGA04 vending key is 160 bits")
        var padded = key + [UInt8](repeating: 0, count: 12)
        defer { for i in padded.indices { padded[i] = 0 } }
        try session.createSecretKey(label: label, keyType: CK_KEY_TYPE(CKK_GENERIC_SECRET), value: padded, usage: .sign)
        return try ModuleVendingKey(label: label, session: session)
    }

    /// Stores a 64-bit DKGA02 vending key in the module under `label` as DES3 K‖K‖K.
    public static func storeDKGA02(_ key: [UInt8], label: String, session: PKCS11Session) throws(PKCS11Error) -> ModuleVendingKey {
        precondition(key.count == 8, "a DKGA02 vending key is 64 bits")
        var triple = key + key + key
        defer { for i in triple.indices { triple[i] = 0 } }
        try session.createSecretKey(label: label, keyType: CK_KEY_TYPE(CKK_DES3), value: triple, usage: .encrypt)
        return try ModuleVendingKey(label: label, session: session)
    }

    /// The meter's DKGA04 decoder key (64 bits, or 128 for EA11), computed in the module: HMAC-SHA-256
    /// over the DKGA04 message, its first 8 or 16 bytes.
    public func deriveDKGA04(_ p: DecoderKeyParameters) throws(PKCS11Error) -> DecoderKey {
        var mac = try session.sign(CK_MECHANISM_TYPE(CKM_SHA256_HMAC), key: object, DKGA04.message(p))
        defer { for i in mac.indices { mac[i] = 0 } }
        guard mac.count == 32 else { throw .call(function: "C_Sign", rv: UInt(CKR_FUNCTION_FAILED)) }
        func word(_ at: Int) -> UInt64 { mac[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        return p.encryption.keyBits == 128 ? DecoderKey(high: word(0), low: word(8)) : DecoderKey(word(0))
    }

    /// `DES(VK, X)` computed in the module, for DKGA02's `X = PANBlock ⊕ ControlBlock`.
    public func dkga02Encryption(_ p: DecoderKeyParameters) throws(PKCS11Error) -> UInt64 {
        let x = DKGA02.panBlock(p.pan, keyType: p.keyType) ^ DKGA02.controlBlock(p)
        let block = (0..<8).map { UInt8(truncatingIfNeeded: x >> UInt64(56 - 8 * $0)) }
        let e = try session.encrypt(CK_MECHANISM_TYPE(CKM_DES3_ECB), key: object, block)
        guard e.count == 8 else { throw .call(function: "C_Encrypt", rv: UInt(CKR_FUNCTION_FAILED)) }
        return e.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Whether the module keeps the key sensitive and not extractable (what custody means).
    public func custody() throws(PKCS11Error) -> (sensitive: Bool, extractable: Bool) {
        (try session.bool(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), of: object), try session.bool(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), of: object))
    }

    /// Tries to read the key's value (the module must refuse).
    public func readValue() throws(PKCS11Error) -> [UInt8] { try session.value(of: object) }
}
