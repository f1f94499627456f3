import CPKCS11
import Foundation
import STSSupport

/// A PKCS#11 module (a `.so` such as SoftHSM2's `/usr/lib/softhsm/libsofthsm2.so`) loaded at
/// run time and initialised for use by several threads (the module's own locking).
public final class PKCS11Module: @unchecked Sendable {
    /// Where it was loaded from.
    public let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    private let handle: UnsafeMutableRawPointer

    /// Loads and initialises the module at `path`.
    public init(path: String) throws(PKCS11Error) {
        self.path = path
        guard let h = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw .moduleNotLoadable(path: path, why: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        guard let symbol = dlsym(h, "C_GetFunctionList") else {
            dlclose(h)
            throw .moduleNotLoadable(path: path, why: "it has no C_GetFunctionList")
        }
        var list: CK_FUNCTION_LIST_PTR?
        let rv = sts_get_function_list(symbol, &list)
        guard rv == CKR_OK, let list else { dlclose(h); throw .call(function: "C_GetFunctionList", rv: UInt(rv)) }
        handle = h
        functions = list
        var args = CK_C_INITIALIZE_ARGS()
        args.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        let initRV = withUnsafeMutablePointer(to: &args) { functions.pointee.C_Initialize(UnsafeMutableRawPointer($0)) }
        guard initRV == CKR_OK || initRV == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            dlclose(h)
            throw .call(function: "C_Initialize", rv: UInt(initRV))
        }
    }

    deinit {
        _ = functions.pointee.C_Finalize(nil)
        dlclose(handle)
    }

    /// The slot holding the initialised token labelled `label`.
    public func slot(token label: String) throws(PKCS11Error) -> CK_SLOT_ID {
        var count: CK_ULONG = 0
        try PKCS11Error.check(functions.pointee.C_GetSlotList(CK_BBOOL(CK_TRUE), nil, &count), "C_GetSlotList")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try PKCS11Error.check(functions.pointee.C_GetSlotList(CK_BBOOL(CK_TRUE), &slots, &count), "C_GetSlotList")
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            guard functions.pointee.C_GetTokenInfo(slot, &info) == CKR_OK else { continue }
            let raw = withUnsafeBytes(of: info.label) { Array($0) }
            let name = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            if name == label, info.flags & CK_FLAGS(CKF_TOKEN_INITIALIZED) != 0 { return slot }
        }
        throw .tokenNotFound(label: label)
    }

    /// A read-write session on the token labelled `label`, logged in as its user with the PIN in
    /// `pinFile` (mode 0600, one line; never an argument, never logged).
    public func session(token label: String, pinFile: String) throws(PKCS11Error) -> PKCS11Session {
        var pin: [UInt8]
        do { pin = try OwnerOnlyFile.read(pinFile, what: "PIN file", limit: 256) } catch { throw .pinFile(error.description) }
        defer { for i in pin.indices { pin[i] = 0 } }
        while let last = pin.last, last == 10 || last == 13 { pin.removeLast() }
        let session = try PKCS11Session(module: self, slot: try slot(token: label))
        try session.login(pin: pin)
        return session
    }
}
