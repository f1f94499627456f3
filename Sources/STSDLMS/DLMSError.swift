/// What went wrong talking DLMS/COSEM: a frame or APDU that does not parse, a refused
/// association, a failed security check, or a peer that answered with an error.
public enum DLMSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes ended before the structure did.
    case truncated
    /// The bytes do not follow the encoding (the text says where).
    case malformed(String)
    /// A length, depth or count beyond what this implementation accepts.
    case tooLarge(String)
    /// A service, data type or option this implementation does not offer.
    case unsupported(String)
    /// A ciphered APDU whose tag does not verify, or an HLS reply that does not match.
    case authenticationFailed
    /// An invocation counter that did not increase (a replay, or a reset counter).
    case replayed(counter: UInt32, lastAccepted: UInt32)
    /// The meter refused the association (AARE result and diagnostic).
    case associationRejected(result: UInt8, diagnostic: UInt8)
    /// The peer answered a request with a data-access or action result other than success.
    case accessResult(UInt8)
    /// The peer answered with an exception-response or a confirmed-service-error.
    case peerError(String)
    /// A transport failure (connect, read, write, timeout).
    case transport(String)

    public var description: String {
        switch self {
        case .truncated: return "DLMS: the message ended too early"
        case .malformed(let s): return "DLMS: malformed message (\(s))"
        case .tooLarge(let s): return "DLMS: too large (\(s))"
        case .unsupported(let s): return "DLMS: not supported (\(s))"
        case .authenticationFailed: return "DLMS: authentication failed"
        case .replayed(let c, let l): return "DLMS: invocation counter \(c) not above \(l) (replay)"
        case .associationRejected(let r, let d): return "DLMS: association rejected (result \(r), diagnostic \(d))"
        case .accessResult(let r): return "DLMS: the meter answered \(DataAccessResult(rawValue: r).map { "\($0)" } ?? "result \(r)")"
        case .peerError(let s): return "DLMS: the meter answered an error (\(s))"
        case .transport(let s): return "DLMS: \(s)"
        }
    }
}

/// Data-Access-Result and Action-Result of the Green Book (the two share their codes).
public enum DataAccessResult: UInt8, Sendable, CustomStringConvertible {
    case success = 0, hardwareFault = 1, temporaryFailure = 2, readWriteDenied = 3, objectUndefined = 4
    case objectClassInconsistent = 9, objectUnavailable = 11, typeUnmatched = 12, scopeOfAccessViolated = 13
    case dataBlockUnavailable = 14, longGetAborted = 15, noLongGetInProgress = 16, otherReason = 250

    public var description: String {
        switch self {
        case .success: return "success"
        case .hardwareFault: return "hardware-fault"
        case .temporaryFailure: return "temporary-failure"
        case .readWriteDenied: return "read-write-denied"
        case .objectUndefined: return "object-undefined"
        case .objectClassInconsistent: return "object-class-inconsistent"
        case .objectUnavailable: return "object-unavailable"
        case .typeUnmatched: return "type-unmatched"
        case .scopeOfAccessViolated: return "scope-of-access-violated"
        case .dataBlockUnavailable: return "data-block-unavailable"
        case .longGetAborted: return "long-get-aborted"
        case .noLongGetInProgress: return "no-long-get-in-progress"
        case .otherReason: return "other-reason"
        }
    }
}
