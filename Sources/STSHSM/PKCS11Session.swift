import CPKCS11
import Foundation

/// One session on a token. PKCS#11 sessions must not be used by two threads at once, so every
/// call takes the session's lock; a station keeps a few of them for concurrency.
public final class PKCS11Session: @unchecked Sendable {
    let module: PKCS11Module
    let handle: CK_SESSION_HANDLE
    private let lock = NSLock()
    var f: CK_FUNCTION_LIST { module.functions.pointee }
    func lockForCall() { lock.lock() }
    func unlockAfterCall() { lock.unlock() }

    init(module: PKCS11Module, slot: CK_SLOT_ID) throws(PKCS11Error) {
        self.module = module
        var h: CK_SESSION_HANDLE = 0
        try PKCS11Error.check(module.functions.pointee.C_OpenSession(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &h), "C_OpenSession")
        handle = h
    }

    deinit { _ = f.C_CloseSession(handle) }

    func login(pin: [UInt8]) throws(PKCS11Error) {
        var p = pin
        let rv = p.withUnsafeMutableBufferPointer { f.C_Login(handle, CK_USER_TYPE(CKU_USER), $0.baseAddress, CK_ULONG($0.count)) }
        for i in p.indices { p[i] = 0 }
        guard rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN else { throw .call(function: "C_Login", rv: UInt(rv)) }
    }

    /// What a new secret key may do.
    public enum Usage: Sendable {
        /// Encrypt (DES3 ECB, AES): a DKGA02 vending key, a KEK.
        case encrypt
        /// Sign/verify (HMAC, CMAC): a DKGA04 vending key, a card issuer key.
        case sign
    }

    /// Creates a token secret key labelled `label` from `value`: private, sensitive, never
    /// extractable (its value can no longer be read from the module). `keyType` is a `CKK_…`.
    @discardableResult
    public func createSecretKey(label: String, keyType: CK_KEY_TYPE, value: [UInt8], usage: Usage) throws(PKCS11Error) -> CK_OBJECT_HANDLE {
        var template = AttributeTemplate()
        template.add(CKA_CLASS, ulong: CK_ULONG(CKO_SECRET_KEY))
        template.add(CKA_KEY_TYPE, ulong: keyType)
        template.add(CKA_LABEL, bytes: Array(label.utf8))
        template.add(CKA_VALUE, bytes: value)
        template.add(CKA_TOKEN, bool: true)
        template.add(CKA_PRIVATE, bool: true)
        template.add(CKA_SENSITIVE, bool: true)
        template.add(CKA_EXTRACTABLE, bool: false)
        template.add(CKA_ENCRYPT, bool: usage == .encrypt)
        template.add(CKA_DECRYPT, bool: false)
        template.add(CKA_SIGN, bool: usage == .sign)
        template.add(CKA_VERIFY, bool: usage == .sign)
        template.add(CKA_WRAP, bool: false)
        template.add(CKA_UNWRAP, bool: false)
        template.add(CKA_DERIVE, bool: false)
        defer { template.wipe() }
        lock.lock(); defer { lock.unlock() }
        var object: CK_OBJECT_HANDLE = 0
        let rv = template.withAttributes { f.C_CreateObject(handle, $0, $1, &object) }
        try PKCS11Error.check(rv, "C_CreateObject")
        return object
    }

    /// The secret key labelled `label`.
    public func secretKey(label: String) throws(PKCS11Error) -> CK_OBJECT_HANDLE {
        var template = AttributeTemplate()
        template.add(CKA_CLASS, ulong: CK_ULONG(CKO_SECRET_KEY))
        template.add(CKA_LABEL, bytes: Array(label.utf8))
        lock.lock(); defer { lock.unlock() }
        try PKCS11Error.check(template.withAttributes { f.C_FindObjectsInit(handle, $0, $1) }, "C_FindObjectsInit")
        defer { _ = f.C_FindObjectsFinal(handle) }
        var found: CK_OBJECT_HANDLE = 0, count: CK_ULONG = 0
        try PKCS11Error.check(f.C_FindObjects(handle, &found, 1, &count), "C_FindObjects")
        guard count == 1 else { throw .objectNotFound(label: label) }
        return found
    }

    /// A boolean attribute of an object (`CKA_SENSITIVE`, `CKA_EXTRACTABLE`, …).
    public func bool(_ attribute: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> Bool {
        var value = CK_BBOOL(CK_FALSE)
        var a = CK_ATTRIBUTE(type: attribute, pValue: nil, ulValueLen: CK_ULONG(MemoryLayout<CK_BBOOL>.size))
        lock.lock(); defer { lock.unlock() }
        let rv = withUnsafeMutablePointer(to: &value) { p in
            a.pValue = UnsafeMutableRawPointer(p)
            return f.C_GetAttributeValue(handle, object, &a, 1)
        }
        try PKCS11Error.check(rv, "C_GetAttributeValue")
        return value == CK_BBOOL(CK_TRUE)
    }

    /// Tries to read a key's value: the module must refuse for a sensitive key (`CKR_ATTRIBUTE_SENSITIVE`).
    public func value(of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> [UInt8] {
        try attributeBytes(CK_ATTRIBUTE_TYPE(CKA_VALUE), of: object)
    }

    /// An attribute's bytes.
    func attributeBytes(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> [UInt8] {
        var a = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
        lock.lock(); defer { lock.unlock() }
        try PKCS11Error.check(f.C_GetAttributeValue(handle, object, &a, 1), "C_GetAttributeValue")
        var out = [UInt8](repeating: 0, count: Int(a.ulValueLen))
        let rv = out.withUnsafeMutableBytes { b in
            a.pValue = b.baseAddress
            return f.C_GetAttributeValue(handle, object, &a, 1)
        }
        try PKCS11Error.check(rv, "C_GetAttributeValue")
        return out
    }

    /// One single-part encryption (`C_EncryptInit` + `C_Encrypt`) of `data` under `key`.
    public func encrypt(_ mechanism: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE, _ data: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try singlePart(mechanism, key: key, data, initialise: { f.C_EncryptInit($0, $1, $2) }, run: { f.C_Encrypt($0, $1, $2, $3, $4) }, "C_Encrypt")
    }

    /// One single-part signature or MAC (`C_SignInit` + `C_Sign`) of `data` under `key`.
    public func sign(_ mechanism: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE, _ data: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try singlePart(mechanism, key: key, data, initialise: { f.C_SignInit($0, $1, $2) }, run: { f.C_Sign($0, $1, $2, $3, $4) }, "C_Sign")
    }

    private func singlePart(_ mechanism: CK_MECHANISM_TYPE, key: CK_OBJECT_HANDLE, _ data: [UInt8],
                            initialise: (CK_SESSION_HANDLE, UnsafeMutablePointer<CK_MECHANISM>, CK_OBJECT_HANDLE) -> CK_RV,
                            run: (CK_SESSION_HANDLE, UnsafeMutablePointer<UInt8>?, CK_ULONG, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<CK_ULONG>) -> CK_RV,
                            _ name: String) throws(PKCS11Error) -> [UInt8] {
        var m = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
        var input = data
        var out = [UInt8](repeating: 0, count: 64)
        var length = CK_ULONG(out.count)
        lock.lock(); defer { lock.unlock() }
        try PKCS11Error.check(initialise(handle, &m, key), name + "Init")
        let rv = input.withUnsafeMutableBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in run(handle, i.baseAddress, CK_ULONG(i.count), o.baseAddress, &length) }
        }
        try PKCS11Error.check(rv, name)
        return Array(out.prefix(Int(length)))
    }
}

/// A PKCS#11 attribute template whose values live as long as the template (C holds pointers).
struct AttributeTemplate {
    private var types: [CK_ATTRIBUTE_TYPE] = []
    private var values: [[UInt8]] = []

    mutating func add<T: BinaryInteger>(_ type: T, bytes: [UInt8]) { types.append(CK_ATTRIBUTE_TYPE(type)); values.append(bytes) }
    mutating func add<T: BinaryInteger>(_ type: T, ulong: CK_ULONG) { add(type, bytes: withUnsafeBytes(of: ulong) { Array($0) }) }
    mutating func add<T: BinaryInteger>(_ type: T, bool: Bool) { add(type, bytes: [bool ? UInt8(CK_TRUE) : UInt8(CK_FALSE)]) }

    /// Overwrites every value (a key's bytes must not linger).
    mutating func wipe() { for i in values.indices { for j in values[i].indices { values[i][j] = 0 } } }

    func withAttributes<R>(_ body: (UnsafeMutablePointer<CK_ATTRIBUTE>, CK_ULONG) -> R) -> R {
        // Each value in memory of its own for the call, zeroed and freed after it.
        let buffers = values.map { v -> UnsafeMutableRawBufferPointer in
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(v.count, 1), alignment: 8)
            b.copyBytes(from: v)
            return b
        }
        defer { for b in buffers { b.initializeMemory(as: UInt8.self, repeating: 0); b.deallocate() } }
        var attributes = zip(types, zip(buffers, values)).map { CK_ATTRIBUTE(type: $0.0, pValue: $0.1.0.baseAddress, ulValueLen: CK_ULONG($0.1.1.count)) }
        return attributes.withUnsafeMutableBufferPointer { body($0.baseAddress!, CK_ULONG($0.count)) }
    }
}

extension PKCS11Session {
    /// Generates an Ed25519 key pair on the token (`CKM_EC_EDWARDS_KEY_PAIR_GEN`, curve
    /// edwards25519 by its OID 1.3.101.112): the private key sensitive, never extractable, signing
    /// only; returns the private key's handle and the 32-byte raw public key.
    public func generateEd25519(label: String) throws(PKCS11Error) -> (privateKey: CK_OBJECT_HANDLE, publicKey: [UInt8]) {
        let curve: [UInt8] = [0x06, 0x03, 0x2B, 0x65, 0x70]
        var pub = AttributeTemplate()
        pub.add(CKA_TOKEN, bool: true)
        pub.add(CKA_LABEL, bytes: Array(label.utf8))
        pub.add(CKA_EC_PARAMS, bytes: curve)
        pub.add(CKA_VERIFY, bool: true)
        var priv = AttributeTemplate()
        priv.add(CKA_TOKEN, bool: true)
        priv.add(CKA_PRIVATE, bool: true)
        priv.add(CKA_LABEL, bytes: Array(label.utf8))
        priv.add(CKA_SENSITIVE, bool: true)
        priv.add(CKA_EXTRACTABLE, bool: false)
        priv.add(CKA_SIGN, bool: true)
        var m = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_EC_EDWARDS_KEY_PAIR_GEN), pParameter: nil, ulParameterLen: 0)
        var publicHandle: CK_OBJECT_HANDLE = 0, privateHandle: CK_OBJECT_HANDLE = 0
        let rv: CK_RV = pub.withAttributes { p, pn in
            priv.withAttributes { q, qn in
                withLockedSession { f.C_GenerateKeyPair(handle, &m, p, pn, q, qn, &publicHandle, &privateHandle) }
            }
        }
        try PKCS11Error.check(rv, "C_GenerateKeyPair")
        // CKA_EC_POINT: the 32-byte point, DER-wrapped as an OCTET STRING (04 20 …) by most modules.
        let point = try attributeBytes(CK_ATTRIBUTE_TYPE(CKA_EC_POINT), of: publicHandle)
        let raw = point.count == 34 && point[0] == 0x04 && point[1] == 0x20 ? Array(point[2...]) : point
        guard raw.count == 32 else { throw .call(function: "C_GetAttributeValue", rv: UInt(CKR_ATTRIBUTE_VALUE_INVALID)) }
        return (privateHandle, raw)
    }

    /// An Ed25519 signature (`CKM_EDDSA`, pure Ed25519) of `message` by the private key.
    public func signEd25519(key: CK_OBJECT_HANDLE, _ message: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try sign(CK_MECHANISM_TYPE(CKM_EDDSA), key: key, message)
    }

    func withLockedSession<R>(_ body: () -> R) -> R {
        lockForCall()
        defer { unlockAfterCall() }
        return body()
    }
}
