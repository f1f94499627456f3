import Foundation
import HTTPTypes
import Hummingbird
import STSConsole
import STSStation
import STSTariff
import STSTokenFormat

extension StationServer {
    /// The operator console: server-rendered pages, plain forms (no script), every form with its CSRF token.
    func addConsoleRoutes(to router: Router<StationRequestContext>) {
        router.get("/console.css") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/css; charset=utf-8"
            headers[.cacheControl] = "max-age=3600"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: ConsoleStyle.css)))
        }
        router.get("/") { request, _ in self.redirect(self.viewer(request).1 == nil ? "/login" : "/sell") }
        // The login form carries a CSRF token too: a random value in the form and in a
        // SameSite=Strict cookie that must match (a forged login cannot read either).
        router.get("/login") { request, _ in
            var (v, already) = self.viewer(request)
            if already != nil { return self.redirect("/sell") }
            v.csrf = SessionStore.random()
            var response = self.html(SellPages.login(v, error: nil), request)
            response.headers.append(HTTPField(name: .setCookie, value: "login_csrf=\(v.csrf); Path=/login; HttpOnly; SameSite=Strict\(self.configuration.tls ? "; Secure" : "")"))
            return response
        }
        router.post("/login") { request, context in
            var (v, _) = self.viewer(request)
            let form = try await FormBody.read(request)
            guard let sent = form["csrf"], let expected = Credentials.cookie(request, "login_csrf"), SessionStore.same(sent, expected) else {
                v.csrf = SessionStore.random()
                var response = self.html(SellPages.login(v, error: v.t("error.csrf")), request, status: .forbidden)
                response.headers.append(HTTPField(name: .setCookie, value: "login_csrf=\(v.csrf); Path=/login; HttpOnly; SameSite=Strict\(self.configuration.tls ? "; Secure" : "")"))
                return response
            }
            v.csrf = expected
            do {
                let (token, session) = try await self.logInForConsole(form, context)
                var response = self.redirect("/sell", cookie: self.sessionCookie(token, maxAge: self.sessions.lifetime))
                response.headers[RequestLog.actorHeader] = session.actor.name
                return response
            } catch {
                let status: HTTPResponse.Status = (error as? APIError)?.status ?? .unauthorized
                return self.html(SellPages.login(v, error: self.message(error, v.t)), request, status: status)
            }
        }
        router.post("/logout") { request, _ in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case .success:
                if let c = Credentials(request) { self.sessions.close(c.token) }
                return self.redirect("/login", cookie: self.sessionCookie("", maxAge: 0))
            }
        }
        addSellPages(to: router)
        addMeterPages(to: router)
        addConnectedPages(to: router)
        addSupervisorPages(to: router)
        addPointOfSalePages(to: router)
        addReportPages(to: router)
    }

    func logInForConsole(_ form: FormBody, _ context: StationRequestContext) async throws -> (String, Session) {
        let user = form.text("user", max: 64), password = form["password"] ?? "", totp = form.text("totp", max: 16)
        guard !user.isEmpty, !password.isEmpty, password.utf8.count <= 1024 else { throw StationError.authenticationFailed }
        do { return try await logIn(user: user, password: password, totp: totp.isEmpty ? nil : totp, source: context.source) } catch let e as APIError {
            // Keep the station's own words for throttling (the page says until when).
            throw e
        }
    }

    func addSellPages(to router: Router<StationRequestContext>) {
        for target in ["/sell", "/meters"] {
            router.get(RouterPath(stringLiteral: target)) { request, _ in
                switch await self.consoleUser(request) {
                case let .failure(r): return r
                case let .success((v, _)):
                    let query = String((request.query["query"] ?? "").prefix(64))
                    let station = self.station
                    do {
                        let found = try await blocking { try station.findMeters(query: query, limit: 50) }
                        return self.html(SellPages.search(v, query: query, results: found, target: target), request)
                    } catch { return self.problem(v, request, error, back: target) }
                }
            }
        }
        router.get("/sell/{pan}") { request, context in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, s)):
                let station = self.station
                do {
                    let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
                    let o = try await blocking { try station.meterOverview(pan, sales: 5) }
                    let money = String((request.query["money"] ?? "").trimmingCharacters(in: .whitespaces).prefix(40))
                    let units = String((request.query["units"] ?? "").trimmingCharacters(in: .whitespaces).prefix(40))
                    guard !money.isEmpty || !units.isEmpty else {
                        return self.html(SellPages.form(v, o, money: "", units: "", quote: nil, requestID: "", error: nil), request)
                    }
                    do {
                        let amount = try SaleRequest.Amount.parse(money: money.isEmpty ? nil : money, units: units.isEmpty ? nil : units,
                                                                  names: (v.t("sell.money"), v.t("sell.units")))
                        let request0 = SaleRequest(meter: pan, amount: amount, requestID: "quote")
                        let actor = s.actor
                        let quote = try await blocking { try station.quote(request0, by: actor) }
                        return self.html(SellPages.form(v, o, money: money.isEmpty ? "" : money, units: money.isEmpty ? units : "", quote: quote,
                                                        requestID: UUID().uuidString.lowercased(), error: nil), request)
                    } catch {
                        return self.html(SellPages.form(v, o, money: money, units: units, quote: nil, requestID: "", error: self.message(error, v.t)), request,
                                         status: .badRequest)
                    }
                } catch { return self.problem(v, request, error, back: "/sell") }
            }
        }
        // Confirming a sale: its request id was fixed at the preview, so a second click or a
        // reload sells nothing new and shows the same receipt.
        router.post("/sell") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let pan = try Self.meterPAN(form.text("meter", max: 40))
                    let money = form.text("money", max: 40), units = form.text("units", max: 40), id = form.text("request_id", max: 64)
                    guard id.utf8.count >= 8 else { throw APIError.badRequest(v.t("error.no-preview")) }
                    let amount = try SaleRequest.Amount.parse(money: money.isEmpty ? nil : money, units: units.isEmpty ? nil : units)
                    let sale = SaleRequest(meter: pan, amount: amount, requestID: id, channel: "counter")
                    let actor = s.actor
                    let (receipt, card) = try await self.sell(sale, by: actor, reader: nil)
                    let delivery = await self.delivery(after: receipt)
                    let notice = card != nil ? v.t("sell.card-written") : receipt.replayed ? v.t("sell.replayed") : v.t("sell.done")
                    return self.html(ReceiptPage.render(v, receipt, card: card, notice: notice, delivery: delivery), request, status: receipt.replayed ? .ok : .created)
                } catch {
                    return self.html(SupervisorPages.problem(v, title: v.t("error.sale-title"), message: self.message(error, v.t), back: "/sell"), request,
                                     status: (error as? StationError).map(APIError.status) ?? .badRequest)
                }
            }
        }
        router.get("/receipts/{id}") { request, context in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, s)):
                do {
                    let id = try Self.saleID(context)
                    let station = self.station, actor = s.actor
                    let (receipt, delivery) = try await blocking { (try station.reprint(sale: id, by: actor), try station.delivery(sale: id)) }
                    return self.html(ReceiptPage.render(v, receipt, a4: request.query["paper"] == "a4", delivery: delivery), request)
                } catch {
                    return self.html(SupervisorPages.problem(v, title: v.t("error.title"), message: self.message(error, v.t), back: "/sell"), request,
                                     status: (error as? StationError).map(APIError.status) ?? .badRequest)
                }
            }
        }
    }
}
