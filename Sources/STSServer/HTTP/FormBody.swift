import Hummingbird
import STSConsole

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
