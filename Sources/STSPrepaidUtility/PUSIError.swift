import STSSupport

/// An `ErrorDetail` of the Electrum Prepaid Utility Service Interface v3 with the HTTP status it
/// is sent with: what every refused or failed request answers (Specs/prepaid-utility.md §5).
public struct PUSIError: Error, Sendable, Equatable {
    /// The interface's error types (the v3 `ErrorType` enumeration, the ones this station sends).
    public enum ErrorType: String, Sendable, CaseIterable {
        case duplicateRecord = "DUPLICATE_RECORD", formatError = "FORMAT_ERROR", functionNotSupported = "FUNCTION_NOT_SUPPORTED"
        case generalError = "GENERAL_ERROR", invalidAmount = "INVALID_AMOUNT", transactionNotSupported = "TRANSACTION_NOT_SUPPORTED"
        case unableToLocateRecord = "UNABLE_TO_LOCATE_RECORD", upstreamUnavailable = "UPSTREAM_UNAVAILABLE"
        case unknownMeterID = "UNKNOWN_METER_ID", transactionDeclined = "TRANSACTION_DECLINED", doNotHonor = "DO_NOT_HONOR"
        case systemMalfunction = "SYSTEM_MALFUNCTION", meterKeyInvalid = "METER_KEY_INVALID"
        case amountTooLow = "AMOUNT_TOO_LOW", amountTooHigh = "AMOUNT_TOO_HIGH", noFreeUnitsDue = "NO_FREE_UNITS_DUE"
        case meterIDBlocked = "METER_ID_BLOCKED", outcomeUnknown = "OUTCOME_UNKNOWN"

        /// The interface's `errorMessage` (at most 20 characters): a short label; the detail says more.
        var shortMessage: String {
            switch self {
            case .duplicateRecord: "Duplicate record"
            case .formatError: "Format error"
            case .functionNotSupported: "Function not avail."
            case .generalError: "General error"
            case .invalidAmount: "Invalid amount"
            case .transactionNotSupported: "Unsupported tran."
            case .unableToLocateRecord: "Record not found"
            case .upstreamUnavailable: "Upstream unavailable"
            case .unknownMeterID: "Unknown meter"
            case .transactionDeclined: "Transaction declined"
            case .doNotHonor: "Do not honour"
            case .systemMalfunction: "System malfunction"
            case .meterKeyInvalid: "Meter key invalid"
            case .amountTooLow: "Amount too low"
            case .amountTooHigh: "Amount too high"
            case .noFreeUnitsDue: "No free units due"
            case .meterIDBlocked: "Meter blocked"
            case .outcomeUnknown: "Outcome unknown"
            }
        }
    }

    /// The request being answered (the v3 `RequestType` enumeration).
    public enum RequestType: String, Sendable, CaseIterable {
        case meterLookup = "METER_LOOKUP_REQUEST", tokenPurchase = "TOKEN_PURCHASE_REQUEST"
        case tokenPurchaseRetry = "TOKEN_PURCHASE_RETRY_REQUEST", tokenReprint = "TOKEN_REPRINT_REQUEST"
        case faultReport = "FAULT_REPORT_REQUEST", keyChangeToken = "KEY_CHANGE_TOKEN_REQUEST"
        case confirmationAdvice = "CONFIRMATION_ADVICE", reversalAdvice = "REVERSAL_ADVICE"
        case notifyTokenPurchase = "NOTIFY_TOKEN_PURCHASE", tokenPurchaseTrial = "TOKEN_PURCHASE_TRIAL_REQUEST"
    }

    /// The HTTP status: 400 declined or malformed (final), 401 credentials, 404 an advice's
    /// purchase unknown, 500 outcome unknown (retry), 501 not supported, 503 nothing done, try later.
    public var status: Int
    /// The error's type.
    public var type: ErrorType
    /// What was being processed; set by the route that answers.
    public var requestType: RequestType?
    /// The message's id and, for an advice, the original request's.
    public var id: String?, originalID: String?
    /// The detail in the user's words (`detailMessage`).
    public var detail: String

    /// An error of `type` with its status and detail.
    public init(_ status: Int, _ type: ErrorType, _ detail: String) {
        self.status = status
        self.type = type
        self.detail = detail
    }

    /// A message that is not what the interface defines (400 `FORMAT_ERROR`).
    public static func format(_ detail: String) -> PUSIError { PUSIError(400, .formatError, detail) }

    /// The `ErrorDetail` object.
    public var json: [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        w.field("id", id ?? "")
        if let originalID { w.field("originalId", originalID) }
        w.field("errorType", type.rawValue)
        w.field("errorMessage", type.shortMessage)
        w.field("requestType", (requestType ?? .tokenPurchase).rawValue)
        w.field("detailMessage", detail)
        w.end()
        return w.bytes
    }
}
