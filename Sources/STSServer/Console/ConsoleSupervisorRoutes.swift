import Foundation
import Hummingbird
import STSAuditLog
import STSConsole
import STSStation
import STSSupport
import STSTariff

extension StationServer {
    func addSupervisorPages(to router: Router<StationRequestContext>) {
        router.get("/tariffs") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, _)): return try await self.tariffPage(v, request, error: nil, notice: nil)
            }
        }
        // A tariff change: supervisor, with a second-factor code in the same form.
        router.post("/tariffs") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let tariff = try Self.tariff(form, v.t)
                    let actor = try await self.consoleActor(s, form, context, action: "set tariffs", requireCode: true)
                    let station = self.station
                    let version = try await blocking { try station.setTariff(tariff, by: actor) }
                    return try await self.tariffPage(v, request, error: nil, notice: v.t("tariffs.saved", tariff.name, "\(version)"))
                } catch { return try await self.tariffPage(v, request, error: self.message(error, v.t), notice: nil) }
            }
        }
        router.get("/keys") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, _)):
                let station = self.station
                let keys = try await blocking { try station.keys() }
                return self.html(SupervisorPages.keys(v, keys.map {
                    SupervisorPages.KeyLine(name: $0.name, supplyGroup: "\($0.attributes.supplyGroup)", revision: Int($0.attributes.revision.value),
                                            expires: $0.expires, warning: $0.warning)
                }), request)
            }
        }
        router.get("/users") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, s)): return try await self.userPage(v, s, request, newUser: nil, error: nil)
            }
        }
        router.post("/users") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let name = form.text("name", max: 64), password = form["password"] ?? ""
                    guard let role = Role(rawValue: form.text("role", max: 16)) else { throw APIError.badRequest("role") }
                    let actor = try await self.consoleActor(s, form, context, action: "add users", requireCode: true)
                    let station = self.station
                    let secret = try await blocking { try station.addUser(name: name, role: role, password: Array(password.utf8), by: actor) }
                    return try await self.userPage(v, s, request, newUser: (name, Base32.encode(secret)), error: nil)
                } catch { return try await self.userPage(v, s, request, newUser: nil, error: self.message(error, v.t)) }
            }
        }
        for action in ["disable", "unlock"] {
            router.post(RouterPath(stringLiteral: "/users/{name}/\(action)")) { request, context in
                switch try await self.consoleForm(request) {
                case let .failure(r): return r
                case let .success((v, s, form)):
                    do {
                        let name = try Self.pathParameter(context, "name")
                        let station = self.station
                        if action == "disable" {
                            let actor = try await self.consoleActor(s, form, context, action: "disable users", requireCode: true)
                            try await blocking { try station.disableUser(name: name, by: actor) }
                            self.sessions.closeAll(user: name)
                        } else {
                            let actor = s.actor
                            try await blocking { try station.unlockUser(name: name, by: actor) }
                        }
                        return self.redirect("/users")
                    } catch { return try await self.userPage(v, s, request, newUser: nil, error: self.message(error, v.t)) }
                }
            }
        }
        router.get("/campaigns") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, _)): return try await self.campaignPage(v, request, error: nil, notice: nil)
            }
        }
        router.post("/campaigns") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let name = form.text("name", max: 64), from = form.text("from", max: 64), to = form.text("to", max: 64)
                    guard !name.isEmpty, !from.isEmpty, !to.isEmpty else { throw APIError.badRequest(v.t("campaigns.fields-needed")) }
                    let actor = try await self.consoleActor(s, form, context, action: "start campaigns", requireCode: true)
                    let station = self.station
                    _ = try await blocking { try station.startCampaign(name: name, from: from, to: to, by: actor) }
                    return try await self.campaignPage(v, request, error: nil, notice: v.t("campaigns.started", name))
                } catch { return try await self.campaignPage(v, request, error: self.message(error, v.t), notice: nil) }
            }
        }
        router.post("/campaigns/{name}/run") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let name = try Self.pathParameter(context, "name")
                    let limit = max(1, min(Int(form.text("limit", max: 6)) ?? 100, 10_000))
                    let station = self.station, actor = s.actor
                    _ = try await blocking { try station.runCampaign(name: name, by: actor, limit: limit) }
                    return self.redirect("/campaigns")
                } catch { return try await self.campaignPage(v, request, error: self.message(error, v.t), notice: nil) }
            }
        }
    }

    func tariffPage(_ v: ConsoleViewer, _ request: Request, error: String?, notice: String?) async throws -> Response {
        let station = self.station
        let all = try await blocking { try station.tariffs() }
        return html(SupervisorPages.tariffs(v, all, error: error, notice: notice), request, status: error == nil ? .ok : .badRequest)
    }

    func userPage(_ v: ConsoleViewer, _ s: Session, _ request: Request, newUser: (String, String)?, error: String?) async throws -> Response {
        let station = self.station, actor = s.actor
        do {
            let users = try await blocking { try station.users(by: actor) }
            return html(SupervisorPages.users(v, users, newUser: newUser, error: error), request, status: error == nil ? (newUser == nil ? .ok : .created) : .badRequest)
        } catch { return problem(v, request, error, back: "/sell") }
    }

    func campaignPage(_ v: ConsoleViewer, _ request: Request, error: String?, notice: String?) async throws -> Response {
        let station = self.station
        let all = try await blocking { try station.campaigns().map { (name: $0, progress: try station.campaignProgress(name: $0)) } }
        return html(SupervisorPages.campaigns(v, all, error: error, notice: notice), request, status: error == nil ? .ok : .badRequest)
    }

    /// A tariff from the console form: `blocks` "50=1.20, rest=1.80" (or one price), `fbe`, `vat`.
    static func tariff(_ form: FormBody, _ t: Catalog) throws -> Tariff {
        var blocks: [TariffBlock] = []
        let spec = form.text("blocks", max: 1_000)
        for part in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            blocks.append(try TariffBlock(text: part))
        }
        let fbe = form.text("fbe", max: 20), vat = form.text("vat", max: 10)
        return try Tariff(name: form.text("name", max: 64), blocks: blocks,
                          freeBasicTenthsPerMonth: try EnergyPrice(fbe.isEmpty ? "0" : fbe).perKWhTenThousandths / 1_000,
                          vatBasisPoints: try Money(vat.isEmpty ? "0" : vat).cents)
    }
}
