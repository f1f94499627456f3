import STSCrypto
import STSTokenFormat

/// Why a token was not issued. Nothing is ever issued half-right: every check runs first.
public enum VendingError: CodedError, Equatable {
    /// The key's expiry number does not cover the token's TID.
    case keyExpired(tid: UInt32, expiry: UInt8)
    /// A key change to a key that is already expired at the issue time.
    case newKeyExpired(tid: UInt32, expiry: UInt8)
    /// A credit of zero units or zero money.
    case zeroCredit
    /// The 00:01 TID of a day is reserved; ordinary tokens must not carry it.
    case reservedTID(UInt32)
    /// A key-change request that cannot be expressed as an STS key-change set.
    case invalidKeyChange(String)
    /// A management value outside what the function accepts.
    case invalidValue(String)
    /// No TID is left in the 24-bit range after the ones already issued.
    case tidExhausted

    /// The stable code scripts match on (`key-expired`, `reserved-tid`, `invalid-key-change`, …).
    public var code: String {
        switch self {
        case .keyExpired: return "key-expired"
        case .newKeyExpired: return "new-key-expired"
        case .zeroCredit: return "amount-out-of-range"
        case .reservedTID: return "reserved-tid"
        case .invalidKeyChange: return "invalid-key-change"
        case .invalidValue: return "out-of-range"
        case .tidExhausted: return "tid-out-of-range"
        }
    }

    /// The message for people, saying what to do where there is something to do.
    public var description: String {
        switch self {
        case let .keyExpired(tid, ken):
            return "the vending key has expired for TID \(tid) (KEN \(ken) covers TIDs up to \((Int(ken) + 1) * 65536 - 1)); change the meter to a new key"
        case let .newKeyExpired(tid, ken):
            return "the new key (KEN \(ken)) would already be expired at TID \(tid)"
        case .zeroCredit:
            return "a credit token must carry a non-zero amount"
        case let .reservedTID(tid):
            return "TID \(tid) is the reserved 00:01 minute of its day; ordinary tokens do not use it"
        case let .invalidKeyChange(why):
            return "invalid key change: \(why)"
        case let .invalidValue(why):
            return why
        case .tidExhausted:
            return "no token identifier is left after the ones already issued (24-bit limit): the meter needs a key change with rollover"
        }
    }
}
