/// Where and why a text is not strict JSON (RFC 8259): the byte it stopped at and what was
/// wrong there, so a user can find the mistake in a line of a file.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong at ``offset``.
    public enum Reason: String, Sendable {
        case unexpectedEnd = "the text ends inside a value"
        case unexpectedCharacter = "unexpected character"
        case expectedKey = "expected a member name in double quotes"
        case expectedColon = "expected ':' after a member name"
        case expectedCommaOrEndOfObject = "expected ',' or '}'"
        case expectedCommaOrEndOfArray = "expected ',' or ']'"
        case trailingText = "text after the JSON value"
        case controlCharacter = "a raw control character inside a string (write it as \\u00XX)"
        case invalidUTF8 = "invalid UTF-8"
        case badEscape = "an unknown escape (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX)"
        case badUnicodeEscape = "\\u must be followed by exactly 4 hexadecimal digits"
        case loneSurrogate = "a \\u escape is half of a UTF-16 surrogate pair"
        case leadingZero = "a number with a leading zero"
        case badNumber = "a malformed number"
        case badLiteral = "an unknown word (JSON has true, false and null)"
        case tooDeep = "nested more than 32 levels deep"
        case duplicateKey = "a member name appears twice in one object"
        case tooLarge = "the text is 2 GiB or larger"
    }

    /// The 0-based offset of the offending byte in the text.
    public let offset: Int
    public let reason: Reason

    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// The 1-based byte position, as people count.
    public var byte: Int { offset + 1 }

    public var description: String { "invalid JSON at byte \(byte): \(reason.rawValue)" }
}
