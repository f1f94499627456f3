import Foundation
import HTTPTypes
import Hummingbird
import STSAuditLog
import STSStation

/// One line per request that changes the station (every method but GET and HEAD): time,
/// method, path (no query), status, user and remote address. Never a body, a header value, a
/// token, a password or a code.
public struct RequestLog: RouterMiddleware {
    public typealias Context = StationRequestContext
    let write: @Sendable (String) -> Void
    let sessions: SessionStore

    /// Set by the login routes on success and taken off before the response leaves.
    static let actorHeader = HTTPField.Name("X-Stsvend-Actor")!

    /// Writes the lines to standard error.
    public static let standardError: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head else { return try await next(request, context) }
        let user = Credentials(request).flatMap { sessions.peek($0.token)?.actor.name } ?? "-"
        let path = String(request.uri.path.prefix(200)).filter { $0 != "\n" && $0 != "\r" && $0 != " " }
        let status: Int
        let response: Response
        var named = user
        do {
            response = try await next(request, context)
            status = response.status.code
            // A login names its user once it succeeded (the body is not read here).
            if let who = response.headers[Self.actorHeader] {
                named = who
                var r = response
                r.headers[Self.actorHeader] = nil
                write(Self.line(request, path, status, named, context))
                return r
            }
        } catch let e as APIError {
            status = e.status.code
            write(Self.line(request, path, status, user, context))
            throw e
        } catch let e as HTTPResponseError {
            status = e.status.code
            write(Self.line(request, path, status, user, context))
            throw e
        }
        write(Self.line(request, path, status, named, context))
        return response
    }

    static func line(_ r: Request, _ path: String, _ status: Int, _ user: String, _ c: Context) -> String {
        let time = AuditTime.format(Int64(Date().timeIntervalSince1970))
        return "\(time) \(r.method.rawValue) \(path) \(status) user=\(user) from=\(c.source)"
    }
}

/// Headers on every response: no framing, no sniffing, no referrer, and a Content-Security-Policy
/// with no inline script (the console works without any script at all).
struct SecurityHeaders: RouterMiddleware {
    typealias Context = StationRequestContext
    let tls: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do { response = try await next(request, context) } catch let e as APIError { response = e.response } catch let e as HTTPError {
            response = APIError(e.status, e.status == .notFound ? "no-route" : "http-\(e.status.code)", e.body ?? e.status.reasonPhrase).response
        } catch let e as StationError {
            response = APIError(e).response
        } catch {
            // Nothing leaves without the error shape and these headers, whatever a route threw.
            response = APIError(.internalServerError, "internal", "the request could not be completed; nothing was recorded by it").response
        }
        response.headers[.init("Content-Security-Policy")!] = "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if tls { response.headers[.init("Strict-Transport-Security")!] = "max-age=31536000" }
        return response
    }
}
