import HTTPTypes
import Hummingbird
import STSStation

/// The session token a request carries: `Authorization: Bearer TOKEN` (API clients) or the
/// `stsvend_session` cookie (the console, and API calls from it).
struct Credentials {
    static let cookieName = "stsvend_session"
    var token: String
    var fromCookie: Bool

    init?(_ request: Request) {
        if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") {
            token = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            fromCookie = false
            return
        }
        guard let cookie = Self.cookie(request, Self.cookieName) else { return nil }
        token = cookie
        fromCookie = true
    }

    static func cookie(_ request: Request, _ name: String) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }
}

extension StationServer {
    /// The session of a request, or a 401. A cookie session changing anything through the API
    /// must also send its CSRF token (`X-CSRF-Token`): a cookie alone is what a forged request has.
    /// `csrfHeader: false` is for console forms, which carry the token in the form instead.
    func session(_ request: Request, csrfHeader: Bool = true) throws -> (token: String, session: Session) {
        guard let c = Credentials(request), let s = sessions.session(c.token) else { throw APIError.unauthorised }
        if csrfHeader, c.fromCookie, request.method != .get, request.method != .head {
            guard let sent = request.headers[.init("X-CSRF-Token")!], SessionStore.same(sent, s.csrf) else {
                throw APIError(.forbidden, "csrf", "a request from the console must carry its form's CSRF token")
            }
        }
        return (c.token, s)
    }

    /// ``session(_:)``, with the user looked up again in the station once a minute (off the event
    /// loop): a user disabled meanwhile loses the session; a read that fails keeps it.
    func liveSession(_ request: Request, csrfHeader: Bool = true) async throws -> (token: String, session: Session) {
        let (token, s) = try session(request, csrfHeader: csrfHeader)
        guard sessions.dueForCheck(s) else { return (token, s) }
        let station = self.station, name = s.actor.name
        if let active = try? await blocking({ try station.isActive(user: name) }) {
            guard active else { sessions.close(token); throw APIError.unauthorised }
            sessions.markChecked(token)
        }
        return (token, s)
    }

    /// The acting user of a request; with `totp`, as acting with a freshly checked second factor.
    /// A supervisor-only action is refused for other roles before any code is checked (an
    /// operator's code says nothing, and checking it would count against their logins).
    func actor(_ request: Request, _ context: StationRequestContext, totp: String? = nil, action: String, supervisor: Bool = false) async throws -> Actor {
        let (_, s) = try await liveSession(request)
        if supervisor, s.actor.role != .supervisor { throw APIError(StationError.notPermitted(user: s.actor.name, role: s.actor.role, action: action)) }
        guard let totp else { return s.actor }
        let station = self.station
        let source = context.source
        return try await perform(action) { try station.confirmSecondFactor(s.actor, totp: totp, action: action, source: source) }
    }

    /// Runs a station operation off the event loop; a station error becomes its API error.
    func perform<T: Sendable>(_ what: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do { return try await blocking(body) } catch let e as StationError { throw APIError(e) } catch let e as APIError { throw e } catch {
            throw APIError(.internalServerError, "internal", "\(what) failed")
        }
    }

    /// The `Set-Cookie` value of a session (HttpOnly, SameSite=Strict, Secure over TLS).
    func sessionCookie(_ token: String, maxAge: Int64) -> String {
        "\(Credentials.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)\(configuration.tls ? "; Secure" : "")"
    }
}
