import Hummingbird
import STSStation
import STSSupport

extension StationServer {
    func addSessionRoutes(to api: RouterGroup<StationRequestContext>) {
        // Log in: password (and TOTP), throttled per name and per source address by the station.
        api.post("session") { request, context in
            let body = try await RequestJSON.read(request, allowed: ["user", "password", "totp"])
            let (token, session) = try await self.logIn(user: try body.required("user", max: 64), password: try body.required("password", max: 1024),
                                                        totp: try body.string("totp", max: 16), source: context.source)
            var headers = HTTPFields()
            headers[.setCookie] = self.sessionCookie(token, maxAge: self.sessions.lifetime)
            headers[RequestLog.actorHeader] = session.actor.name
            return JSONResponse.object(status: .created, headers: headers) { w in
                w.field("token", token)
                self.write(session, &w)
            }
        }
        api.get("session") { request, _ in
            let (_, s) = try await self.liveSession(request)
            return JSONResponse.object { w in self.write(s, &w) }
        }
        api.delete("session") { request, _ in
            let (token, _) = try self.session(request)
            self.sessions.close(token)
            var headers = HTTPFields()
            headers[.setCookie] = self.sessionCookie("", maxAge: 0)
            return Response(status: .noContent, headers: headers)
        }
    }

    /// A session's user, role, second factor, CSRF token and idle time (`SessionInfo`).
    func write(_ s: Session, _ w: inout JSONLineWriter) {
        w.field("user", s.actor.name)
        w.field("role", s.actor.role.rawValue)
        w.field("second_factor", s.actor.secondFactor)
        w.field("csrf", s.csrf)
        w.field("expires_in", Int(sessions.idle))
    }

    /// Checks a login with the station (off the event loop: scrypt) and opens a session.
    func logIn(user: String, password: String, totp: String?, source: String) async throws -> (String, Session) {
        guard loginGate.allows(source) else {
            throw APIError(.tooManyRequests, "login-locked", "too many failed logins from this address: wait a minute")
        }
        let station = self.station
        do {
            let actor = try await loginGate.run {
                try await perform("log in") {
                    try station.authenticate(user: user, password: Array(password.utf8), totp: totp?.isEmpty == true ? nil : totp,
                                             action: "log in", source: source)
                }
            }
            return sessions.open(actor, source: source)
        } catch {
            loginGate.failed(source)
            throw error
        }
    }
}
