/// Where and why a text is not strict JSON (RFC 8259): the byte it stopped at and what was
/// wrong there, so a user can find the mistake in a line of a file.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong at ``offset``.
    public enum Reason: String, Sendable {
        /// The text ended before the value was complete.
        case unexpectedEnd = "the text ends inside a value"
        /// A byte that cannot start or continue a value here.
        case unexpectedCharacter = "unexpected character"
        /// An object member did not start with a quoted name.
        case expectedKey = "expected a member name in double quotes"
        /// A member name was not followed by `:`.
        case expectedColon = "expected ':' after a member name"
        /// An object member was not followed by `,` or `}`.
        case expectedCommaOrEndOfObject = "expected ',' or '}'"
        /// An array element was not followed by `,` or `]`.
        case expectedCommaOrEndOfArray = "expected ',' or ']'"
        /// Something other than whitespace followed the complete value.
        case trailingText = "text after the JSON value"
        /// A raw control character (below U+0020) inside a string.
        case controlCharacter = "a raw control character inside a string (write it as \\u00XX)"
        /// Bytes that are not valid UTF-8.
        case invalidUTF8 = "invalid UTF-8"
        /// A backslash escape that RFC 8259 does not define.
        case badEscape = "an unknown escape (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)"
        /// `\u` not followed by exactly four hexadecimal digits.
        case badUnicodeEscape = "\\u must be followed by exactly 4 hexadecimal digits"
        /// A `\u` escape that is half of a UTF-16 surrogate pair without its other half.
        case loneSurrogate = "a \\u escape is half of a UTF-16 surrogate pair"
        /// A number with a leading zero (such as `01`).
        case leadingZero = "a number with a leading zero"
        /// A number that does not follow the RFC's grammar.
        case badNumber = "a malformed number"
        /// A bare word other than `true`, `false` and `null`.
        case badLiteral = "an unknown word (JSON has true, false and null)"
        /// Arrays and objects nested deeper than ``JSONTape/maximumDepth`` (32).
        case tooDeep = "nested more than 32 levels deep"
        /// The same member name twice in one object.
        case duplicateKey = "a member name appears twice in one object"
        /// A text of 2 GiB or more (node offsets are 32-bit).
        case tooLarge = "the text is 2 GiB or larger"
    }

    /// The 0-based offset of the offending byte in the text.
    public let offset: Int
    /// What was wrong at ``offset``.
    public let reason: Reason

    /// An error at a 0-based byte offset.
    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// The 1-based byte position, as people count.
    public var byte: Int { offset + 1 }

    /// The message for people: `invalid JSON at byte N: reason`, counting bytes from 1.
    public var description: String { "invalid JSON at byte \(byte): \(reason.rawValue)" }
}
