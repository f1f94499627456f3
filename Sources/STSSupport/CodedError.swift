/// An error that carries a stable, machine-readable code next to its human message.
///
/// Scripts (the batch command's result lines, `--json` output) match on `code`; people read
/// `description`. Codes never change once published; messages may be improved.
public protocol CodedError: Error, CustomStringConvertible, Sendable {
    /// A short kebab-case identifier such as `bad-check-digit` or `amount-out-of-range`.
    var code: String { get }
}
