import Foundation
import Hummingbird
import STSSupport

/// A request's JSON body, read once at the edge: at most 64 KiB, strict RFC 8259, an object
/// whose members are only the ones the route names (anything else is a 400, not ignored).
struct RequestJSON {
    static let limit = 64 * 1024
    let object: JSONObject

    static func read(_ request: Request, allowed: Set<String>) async throws -> RequestJSON {
        var body: ByteBuffer
        do { body = try await request.body.collect(upTo: limit) } catch {
            throw APIError(.contentTooLarge, "body-too-large", "the request body is over \(limit / 1024) KiB")
        }
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        // A JSON body must say so: a cross-site form can send text/plain that happens to parse as JSON.
        if !bytes.isEmpty {
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/json" else {
                throw APIError(.unsupportedMediaType, "unsupported-media-type", "the body must be sent as Content-Type: application/json")
            }
        }
        // No body reads as {}: a route with required members then says which one is missing.
        if bytes.isEmpty { return RequestJSON(object: JSONObject()) }
        let parsed: JSON
        do { parsed = try bytes.withUnsafeBufferPointer { b throws(JSONSyntaxError) in try JSON.parse(b) } } catch {
            throw APIError.badRequest("the body is not JSON: \(error)")
        }
        guard let object = parsed.object else { throw APIError.badRequest("the body must be a JSON object") }
        for (k, _) in object where !allowed.contains(k) {
            throw APIError.badRequest("unknown member \"\(k)\" (this route takes: \(allowed.sorted().joined(separator: ", ")))")
        }
        return RequestJSON(object: object)
    }

    /// A string member; nil when absent; a 400 when present but not a string (or longer than `max`).
    func string(_ key: String, max: Int = 256) throws -> String? {
        guard let v = object[key] else { return nil }
        guard let s = v.string else { throw APIError.badRequest("\"\(key)\" must be a string") }
        guard s.utf8.count <= max else { throw APIError.badRequest("\"\(key)\" is longer than \(max) bytes") }
        return s
    }

    /// A required string member.
    func required(_ key: String, max: Int = 256) throws -> String {
        guard let s = try string(key, max: max), !s.isEmpty else { throw APIError.badRequest("\"\(key)\" is required (not empty)") }
        return s
    }

    /// An integer member in `range`; nil when absent.
    func integer(_ key: String, in range: ClosedRange<Int64>) throws -> Int64? {
        guard let v = object[key] else { return nil }
        guard let i = v.integer, range.contains(i) else { throw APIError.badRequest("\"\(key)\" must be an integer in \(range.lowerBound)…\(range.upperBound)") }
        return i
    }

    /// A boolean member; nil when absent.
    func bool(_ key: String) throws -> Bool? {
        guard let v = object[key] else { return nil }
        guard let b = v.bool else { throw APIError.badRequest("\"\(key)\" must be true or false") }
        return b
    }

    /// The canonical text of the body, for comparing a retried request with the first one.
    var fingerprint: String {
        object.pairs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }
}
