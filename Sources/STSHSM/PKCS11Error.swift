import CPKCS11
import STSSupport

/// A PKCS#11 call that did not return `CKR_OK`, named by its return value (`CKR_PIN_INCORRECT`,
/// `CKR_KEY_FUNCTION_NOT_PERMITTED`, …), or a module that could not be loaded or used.
public enum PKCS11Error: CodedError, Equatable {
    /// The module library could not be opened, or has no `C_GetFunctionList`.
    case moduleNotLoadable(path: String, why: String)
    /// No initialised token with this label in any slot.
    case tokenNotFound(label: String)
    /// No object with this label (and class) on the token.
    case objectNotFound(label: String)
    /// The PIN file could not be read (it must be mode 0600).
    case pinFile(String)
    /// A call returned `rv`.
    case call(function: String, rv: UInt)

    /// The return value's name, as the standard spells it.
    public static func name(_ rv: UInt) -> String {
        let names: [UInt: String] = [
            0x000: "CKR_OK", 0x001: "CKR_CANCEL", 0x002: "CKR_HOST_MEMORY", 0x003: "CKR_SLOT_ID_INVALID", 0x005: "CKR_GENERAL_ERROR",
            0x006: "CKR_FUNCTION_FAILED", 0x007: "CKR_ARGUMENTS_BAD", 0x010: "CKR_ATTRIBUTE_READ_ONLY", 0x011: "CKR_ATTRIBUTE_SENSITIVE",
            0x012: "CKR_ATTRIBUTE_TYPE_INVALID", 0x013: "CKR_ATTRIBUTE_VALUE_INVALID", 0x020: "CKR_DATA_INVALID", 0x021: "CKR_DATA_LEN_RANGE",
            0x030: "CKR_DEVICE_ERROR", 0x031: "CKR_DEVICE_MEMORY", 0x032: "CKR_DEVICE_REMOVED", 0x054: "CKR_FUNCTION_NOT_SUPPORTED",
            0x060: "CKR_KEY_HANDLE_INVALID", 0x062: "CKR_KEY_SIZE_RANGE", 0x063: "CKR_KEY_TYPE_INCONSISTENT",
            0x068: "CKR_KEY_FUNCTION_NOT_PERMITTED", 0x06A: "CKR_KEY_UNEXTRACTABLE", 0x070: "CKR_MECHANISM_INVALID",
            0x071: "CKR_MECHANISM_PARAM_INVALID", 0x082: "CKR_OBJECT_HANDLE_INVALID", 0x090: "CKR_OPERATION_ACTIVE",
            0x091: "CKR_OPERATION_NOT_INITIALIZED", 0x0A0: "CKR_PIN_INCORRECT", 0x0A1: "CKR_PIN_INVALID", 0x0A2: "CKR_PIN_LEN_RANGE",
            0x0A4: "CKR_PIN_LOCKED", 0x0B0: "CKR_SESSION_CLOSED", 0x0B3: "CKR_SESSION_HANDLE_INVALID", 0x0B5: "CKR_SESSION_READ_ONLY",
            0x0D0: "CKR_TEMPLATE_INCOMPLETE", 0x0D1: "CKR_TEMPLATE_INCONSISTENT", 0x0E0: "CKR_TOKEN_NOT_PRESENT",
            0x0E1: "CKR_TOKEN_NOT_RECOGNIZED", 0x100: "CKR_USER_ALREADY_LOGGED_IN", 0x101: "CKR_USER_NOT_LOGGED_IN",
            0x102: "CKR_USER_PIN_NOT_INITIALIZED", 0x103: "CKR_USER_TYPE_INVALID", 0x150: "CKR_BUFFER_TOO_SMALL",
            0x190: "CKR_CRYPTOKI_NOT_INITIALIZED", 0x191: "CKR_CRYPTOKI_ALREADY_INITIALIZED",
        ]
        return names[rv] ?? "CKR_0x" + String(rv, radix: 16, uppercase: true)
    }

    /// The return value of a failed call; nil for the other cases.
    public var returnValue: UInt? { if case let .call(_, rv) = self { rv } else { nil } }

    public var code: String {
        switch self {
        case .moduleNotLoadable: "hsm-module-not-loadable"
        case .tokenNotFound: "hsm-token-not-found"
        case .objectNotFound: "hsm-object-not-found"
        case .pinFile: "hsm-pin-file"
        case .call: "hsm-call-failed"
        }
    }

    public var description: String {
        switch self {
        case let .moduleNotLoadable(path, why): "the PKCS#11 module \(path) cannot be loaded: \(why)"
        case let .tokenNotFound(label): "no PKCS#11 token labelled \"\(label)\" is present"
        case let .objectNotFound(label): "the PKCS#11 token has no key labelled \"\(label)\""
        case let .pinFile(why): "the PIN file cannot be used: \(why)"
        case let .call(function, rv): "\(function) failed: \(Self.name(rv))"
        }
    }

    /// Throws `.call` unless `rv` is `CKR_OK`.
    static func check(_ rv: CK_RV, _ function: String) throws(PKCS11Error) {
        guard rv == CKR_OK else { throw .call(function: function, rv: UInt(rv)) }
    }
}
