import CPCSCLite
import STSTokenFormat

/// A PC/SC failure, named for what the operator sees.
public enum PCSCError: CodedError, Equatable {
    /// The PC/SC service (pcscd) is not running.
    case noService
    /// No card reader is connected.
    case noReaders
    /// No reader matches the selector given (index, name part or ATR).
    case unknownReader(String)
    /// No card in the named reader (empty: in any reader).
    case noCard(String)
    /// The card was removed or reset during the operation.
    case cardRemoved
    /// Another program holds the reader.
    case sharingViolation
    /// No card arrived in the time waited (the reader's name, or empty).
    case timeout(String)
    /// The card does not answer: inserted the wrong way round, or not a CPU card.
    case unresponsiveCard
    /// Any other pcsc-lite failure: its return code and the call that failed.
    case failure(code: Int, call: String)

    /// Maps a pcsc-lite return code (`SCARD_E_*`, `SCARD_W_*`).
    static func from(_ rc: LONG, call: String, reader: String = "") -> PCSCError {
        switch rc {
        case SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED: return .noService
        case SCARD_E_NO_READERS_AVAILABLE: return .noReaders
        case SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE: return .unknownReader(reader)
        case SCARD_E_NO_SMARTCARD: return .noCard(reader)
        case SCARD_W_REMOVED_CARD, SCARD_W_RESET_CARD, SCARD_E_NOT_TRANSACTED: return .cardRemoved
        case SCARD_E_SHARING_VIOLATION: return .sharingViolation
        case SCARD_E_TIMEOUT: return .timeout(reader)
        case SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD: return .unresponsiveCard
        default: return .failure(code: Int(rc), call: call)
        }
    }

    /// The stable code scripts match on (`no-pcsc-service`, `no-card`, `reader-busy`, …).
    public var code: String {
        switch self {
        case .noService: return "no-pcsc-service"
        case .noReaders: return "no-reader"
        case .unknownReader: return "unknown-reader"
        case .noCard: return "no-card"
        case .cardRemoved: return "card-removed"
        case .sharingViolation: return "reader-busy"
        case .timeout: return "timeout"
        case .unresponsiveCard: return "card-unresponsive"
        case .failure: return "pcsc-error"
        }
    }

    /// The message for people, saying what to do (start pcscd, insert a card, …).
    public var description: String {
        switch self {
        case .noService: return "the PC/SC service (pcscd) is not running: start it (pcscd --foreground &) and retry"
        case .noReaders: return "no card reader is connected"
        case let .unknownReader(r): return "no reader matches '\(r)' (see: stsvend card readers)"
        case let .noCard(r): return "no card in \(r.isEmpty ? "any reader" : r); insert one (or pass --wait)"
        case .cardRemoved: return "the card was removed (or reset) during the operation; insert it again to complete"
        case .sharingViolation: return "the reader is in use by another program"
        case let .timeout(r): return "timed out waiting for a card\(r.isEmpty ? "" : " in \(r)")"
        case .unresponsiveCard: return "the card does not answer (inserted the wrong way round, or not a CPU card)"
        case let .failure(code, call): return "\(call) failed with PC/SC error 0x\(String(UInt32(truncatingIfNeeded: code), radix: 16, uppercase: true))"
        }
    }
}
