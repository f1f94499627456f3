import Hummingbird
import STSSupport

/// A console form's body (`application/x-www-form-urlencoded`), at most 64 KiB, read by
/// ``FormFields``.
struct FormBody {
    let fields: [String: String]

    static func read(_ request: Request) async throws -> FormBody {
        var body: ByteBuffer
        do { body = try await request.body.collect(upTo: 64 * 1024) } catch {
            throw APIError(.contentTooLarge, "body-too-large", "the form is over 64 KiB")
        }
        return FormBody(fields: FormFields.parse(body.readBytes(length: body.readableBytes) ?? []))
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// A trimmed, length-bounded field ("" when absent).
    func text(_ name: String, max: Int = 256) -> String {
        String((fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(max))
    }
}

extension Request {
    /// The query string read as a form (`+` is a space, as browsers send GET forms), by
    /// ``FormFields``: what every route reads its query parameters with.
    var query: [String: String] { FormFields.parse(Array((uri.query ?? "").utf8)) }
}
