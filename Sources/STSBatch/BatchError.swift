import STSTokenFormat

/// Why one batch request (or the batch itself) failed.
public enum BatchError: CodedError, Equatable {
    /// The line is not a JSON object, or a field has the wrong type or is missing.
    case badRequest(String)
    /// The request names a key that KEYS.json does not hold.
    case unknownKey(String)
    /// A key file could not be used (permissions, format).
    case keyFile(String)
    /// An input or output file could not be read or written.
    case io(String)

    /// The code written in a failed request's result line: `bad-request`, `unknown-key`, `key-file` or `io`.
    public var code: String {
        switch self {
        case .badRequest: return "bad-request"
        case .unknownKey: return "unknown-key"
        case .keyFile: return "key-file"
        case .io: return "io"
        }
    }

    /// The message for people, as it appears in the result line or on standard error.
    public var description: String {
        switch self {
        case let .badRequest(why): return why
        case let .unknownKey(name): return "no key named '\(name)' in the keys file"
        case let .keyFile(why): return why
        case let .io(why): return why
        }
    }
}
