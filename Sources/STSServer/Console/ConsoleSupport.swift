import Foundation
import HTTPTypes
import Hummingbird
import STSConsole
import STSStation
import STSTariff

/// What every console route needs: who is looking, in which language, and how to answer.
extension StationServer {
    /// The viewer of a console request; nil session when not logged in.
    func viewer(_ request: Request) -> (ConsoleViewer, Session?) {
        let explicit = request.query["lang"].map { String($0) } ?? Credentials.cookie(request, "lang")
        let t = Catalog.choose(explicit: explicit, acceptLanguage: request.headers[.acceptLanguage])
        // The language links lead back here: a page drawn by a POST links to the start page, and a
        // path never starts with "//" (that would name another host).
        var path = "/" + request.uri.path.drop(while: { $0 == "/" })
        if request.method != .get { path = "/sell" } else if let q = request.uri.query {
            let kept = q.split(separator: "&").filter { !$0.hasPrefix("lang=") }.joined(separator: "&")
            if !kept.isEmpty { path += "?" + kept }
        }
        let session = Credentials(request).flatMap { $0.fromCookie ? sessions.session($0.token) : nil }
        return (ConsoleViewer(t: t, user: session?.actor.name, role: session?.actor.role, csrf: session?.csrf ?? "", path: path), session)
    }

    /// An HTML page; a `?lang=` choice is remembered in a cookie.
    func html(_ page: HTML, _ request: Request, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        if let lang = request.query["lang"], Catalog.languages.contains(String(lang)) {
            headers[.setCookie] = "lang=\(lang); Path=/; SameSite=Strict; Max-Age=31536000"
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: page.bytes)))
    }

    func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    /// The logged-in viewer of a console page, or a redirect to the login page.
    func consoleUser(_ request: Request) async -> ConsoleGate<(ConsoleViewer, Session)> {
        let (v, s) = viewer(request)
        guard s != nil, let (_, live) = try? await liveSession(request, csrfHeader: false) else { return .failure(redirect("/login")) }
        return .success((v, live))
    }

    /// A console form post: the logged-in user and the form, its CSRF token checked.
    func consoleForm(_ request: Request) async throws -> ConsoleGate<(ConsoleViewer, Session, FormBody)> {
        let (v, found) = viewer(request)
        guard found != nil, let (_, s) = try? await liveSession(request, csrfHeader: false) else { return .failure(redirect("/login")) }
        let form = try await FormBody.read(request)
        guard let sent = form["csrf"], SessionStore.same(sent, s.csrf) else {
            return .failure(html(SupervisorPages.problem(v, title: v.t("error.title"), message: v.t("error.csrf"), back: "/sell"), request, status: .forbidden))
        }
        return .success((v, s, form))
    }

    /// A station refusal in the viewer's language where the catalog has it, else the station's words.
    func message(_ error: Error, _ t: Catalog) -> String {
        switch error {
        case let e as StationError:
            if case let .loginLocked(until) = e { return t("error.login-locked", until) }
            let key = "error." + e.code
            let text = t(key)
            return text == key ? e.description : text
        case let e as APIError:
            if let inner = e.station { return message(inner, t) }
            // The address limit (LoginGate) shares the API code with a locked name; its words differ.
            if e.code == "login-locked" { return t("error.address-locked") }
            let key = "error." + e.code
            let text = t(key)
            return text == key ? e.message : text
        case let e as TariffError:
            let key = "error." + e.code
            let text = t(key)
            return text == key ? e.description : text
        default:
            return t("error.internal")
        }
    }

    /// The acting user of a console post, with the form's TOTP code checked when it has one.
    func consoleActor(_ s: Session, _ form: FormBody, _ context: StationRequestContext, action: String, supervisor: Bool = true,
                      requireCode: Bool = false) async throws -> Actor {
        if supervisor, s.actor.role != .supervisor { throw StationError.notPermitted(user: s.actor.name, role: s.actor.role, action: action) }
        let code = form.text("totp", max: 16)
        if requireCode, code.isEmpty { throw StationError.secondFactorRequired(action: action) }
        guard !code.isEmpty else { return s.actor }
        let station = self.station, source = context.source
        return try await blocking { try station.confirmSecondFactor(s.actor, totp: code, action: action, source: source) }
    }
}

/// A console route goes on with what it needs, or answers at once (a redirect to the login
/// page, a refused form).
enum ConsoleGate<T> {
    case success(T)
    case failure(Response)
}
