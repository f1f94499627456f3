/// What a meter does with one entered token, named as meters name it.
///
/// Exactly one result per token. Every result other than ``accept`` and the key-change
/// results leaves the registers, TID memory and keys unchanged.
public enum TokenResult: String, Sendable, CaseIterable, Codable {
    /// Applied: credit added, register set, or test started.
    case accept
    /// A key-change token was stored; the set is not complete yet, or this token completed it.
    case firstKeyChangeToken = "1st-kct"
    /// The second token of a key-change set was stored.
    case secondKeyChangeToken = "2nd-kct"
    /// The third token of a key-change set (subclass 8) was stored.
    case thirdKeyChangeToken = "3rd-kct"
    /// The fourth token of a key-change set (subclass 9) was stored.
    case fourthKeyChangeToken = "4th-kct"
    /// The TID is in the TID memory: this token was already used.
    case used
    /// The TID is older than the oldest one the full TID memory keeps.
    case old
    /// The CRC failed after decryption: mistyped, or for another meter or key.
    case crc
    /// Not 20 digits, not below 2^66, or a reserved class.
    case format
    /// A value the meter cannot take (a currency debit below zero credit).
    case range
    /// The credit register would pass its maximum.
    case overflow
    /// The token's TID is past the installed key's expiry number.
    case keyExpired = "key-expired"
    /// A key change that breaks the key-type rules.
    case keyType = "key-type"
    /// Credit under a default key (DDTK) is refused.
    case ddtk
    /// A token type this meter does not support.
    case function
    /// A class 1 token for another manufacturer.
    case manufacturerCode = "manufacturer-code"
    /// Too many wrong entries: meter-specific tokens are refused until the lockout ends.
    case lockout
    /// The meter's tamper flag is set: credit is refused until a clear-tamper token.
    case tamper

    /// Whether the token changed the meter (or started a test).
    public var isAccepted: Bool {
        switch self {
        case .accept, .firstKeyChangeToken, .secondKeyChangeToken, .thirdKeyChangeToken, .fourthKeyChangeToken: return true
        default: return false
        }
    }

    /// Whether the entry counts towards the keypad lockout (a token that could not be read).
    public var isWrongEntry: Bool { self == .crc || self == .format }

    /// What the meter's display shows.
    public var displayText: String {
        switch self {
        case .accept: return "ACCEPt"
        case .firstKeyChangeToken: return "1St KCt"
        case .secondKeyChangeToken: return "2nd KCt"
        case .thirdKeyChangeToken: return "3rd KCt"
        case .fourthKeyChangeToken: return "4th KCt"
        case .used: return "USEd"
        case .old: return "OLd"
        case .crc: return "Err CrC"
        case .format: return "Err FOrMAt"
        case .range: return "Err rAngE"
        case .overflow: return "Err OFLO"
        case .keyExpired: return "Err KEY EXP"
        case .keyType: return "Err KEY tYPE"
        case .ddtk: return "Err ddtK"
        case .function: return "Err FUnC"
        case .manufacturerCode: return "Err MFr"
        case .lockout: return "LOC"
        case .tamper: return "tAMPEr"
        }
    }
}
