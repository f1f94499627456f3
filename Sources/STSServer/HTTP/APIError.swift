import HTTPTypes
import Hummingbird
import STSStation
import STSSupport

/// An error as the API answers it: one JSON shape, `{"error": {"code", "message"}}`, with the
/// station's stable code and an HTTP status by kind (Specs/server.md §3).
public struct APIError: Error, Sendable {
    /// The stable code (the station's codes, plus the server's own: `bad-request`, `unauthorised`, …).
    public var code: String
    /// The message in the user's words; never key material, never which login check failed.
    public var message: String
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The station's error behind it, when there is one (the console words it in its language).
    public var station: StationError?

    /// An error with its code, message and status.
    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The station's refusal, with the status its kind takes: 400 input, 401 login, 403
    /// permission, 404 not found, 409 the rules or a conflict, 429 throttled, 503 storage.
    public init(_ e: StationError) {
        self.init(Self.status(e), e.code, e.description)
        station = e
    }

    static func status(_ e: StationError) -> HTTPResponse.Status {
        switch e {
        case .authenticationFailed: .unauthorized
        case .loginLocked: .tooManyRequests
        case .notPermitted, .secondFactorRequired: .forbidden
        case .notFound: .notFound
        case .invalid: .badRequest
        case .store, .tampered: .serviceUnavailable
        case .wrongKeyEncryptionKey, .clockOverrideRefused: .internalServerError
        default: .conflict
        }
    }

    /// A body that is not the JSON the route takes.
    static func badRequest(_ why: String) -> APIError { APIError(.badRequest, "bad-request", why) }
    /// No session, or one that ended.
    static let unauthorised = APIError(.unauthorized, "unauthorised", "log in first (POST /api/v1/session), or the session has ended")

    /// The error as a response.
    public var response: Response {
        var w = JSONLineWriter()
        w.begin()
        w.object("error") { e in
            e.field("code", code)
            e.field("message", message)
        }
        w.end()
        return JSONResponse.bytes(w.bytes, status: status)
    }
}

/// JSON responses.
enum JSONResponse {
    static func bytes(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func object(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ body: (inout JSONLineWriter) -> Void) -> Response {
        var w = JSONLineWriter()
        w.begin()
        body(&w)
        w.end()
        return bytes(w.bytes, status: status, headers: headers)
    }
}
