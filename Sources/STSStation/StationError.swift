import STSTariff

/// Why the station refused a request. Messages name what the operator can fix; they never
/// reveal key material, and an authentication failure never says which check failed.
public enum StationError: Error, Equatable, CustomStringConvertible {
    /// Unknown user, wrong password, wrong or replayed second-factor code, or disabled user.
    case authenticationFailed
    /// The user is authenticated but their role may not do this.
    case notPermitted(user: String, role: Role, action: String)
    /// A supervisor action that needs the second factor was asked without `--totp`.
    case secondFactorRequired(action: String)
    case alreadyExists(String)
    case notFound(String)
    case invalid(String)
    /// The key-encryption key does not open this station's secrets.
    case wrongKeyEncryptionKey
    /// The vending key expired (KEN); only key changes away from it may use it.
    case keyExpired(name: String)
    /// A request id used before for a different request.
    case requestIDReused(String)
    case pricing(TariffError)
    case vending(String)
    case store(String)
    /// The database disagrees with the signed log (a row or an entry was edited outside the station).
    case tampered(String)
    /// Too many failed logins for this name: refused until the time given (or a supervisor unlocks it).
    case loginLocked(until: String)
    /// STSVEND_NOW is set, but the station keeps real time.
    case clockOverrideRefused

    public var description: String {
        switch self {
        case .authenticationFailed: "authentication failed (user, password or second-factor code not accepted)"
        case let .notPermitted(user, role, action): "\(user) is a\(role == .operator || role == .auditor ? "n" : "") \(role) and may not \(action)"
        case let .secondFactorRequired(action): "\(action) needs a supervisor's second factor: add --totp CODE"
        case let .alreadyExists(what): "\(what) already exists"
        case let .notFound(what): "\(what) not found"
        case let .invalid(why): why
        case .wrongKeyEncryptionKey: "the key-encryption key does not open this station's secrets (wrong --kek-file?)"
        case let .keyExpired(name): "vending key \(name) has expired (its KEN is past); change the meters to a new key"
        case let .requestIDReused(id): "request id \(id) was used before for a different request"
        case let .pricing(e): e.description
        case let .vending(why): why
        case let .store(why): "station database: \(why)"
        case let .tampered(why): "station database does not match its signed log: \(why)"
        case let .loginLocked(until): "too many failed logins for this user: refused until \(until) (or ask a supervisor to unlock it)"
        case .clockOverrideRefused: "STSVEND_NOW is set, but this station keeps real time (it was not created with --test-clock): unset STSVEND_NOW"
        }
    }

    /// Exit status for the command line: 3 authentication/permission, 4 not found, 5 refused
    /// by the rules, 6 storage.
    public var exitCode: Int32 {
        switch self {
        case .authenticationFailed, .notPermitted, .secondFactorRequired, .wrongKeyEncryptionKey, .loginLocked: 3
        case .notFound: 4
        case .store, .tampered: 6
        default: 5
        }
    }
}
