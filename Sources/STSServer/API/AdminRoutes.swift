import Hummingbird
import STSAuditLog
import STSStation
import STSSupport
import STSTariff

extension StationServer {
    func addAdminRoutes(to api: RouterGroup<StationRequestContext>) {
        api.get("tariffs") { request, context in
            _ = try await self.actor(request, context, action: "read tariffs")
            let station = self.station
            let all = try await self.perform("tariffs") { try station.tariffs() }
            return JSONResponse.object { w in
                w.array("tariffs") { a in for (t, v) in all { a.element { e in Self.write(t, version: v, &e) } } }
            }
        }
        // A new version of a tariff (supervisor with a second factor in the request).
        api.put("tariffs/{name}") { request, context in
            let name = try Self.pathParameter(context, "name")
            let body = try await RequestJSON.read(request, allowed: ["flat", "blocks", "fbe_kwh", "vat_percent", "channel_fees", "tou_table", "totp"])
            let tariff = try Self.tariff(name: name, body)
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "set tariffs", supervisor: true)
            let station = self.station
            let version = try await self.perform("set tariff") { try station.setTariff(tariff, by: actor) }
            return JSONResponse.object { w in Self.write(tariff, version: version, &w) }
        }
        api.get("keys") { request, context in
            _ = try await self.actor(request, context, action: "read keys")
            let station = self.station
            let keys = try await self.perform("keys") { try station.keys() }
            return JSONResponse.object { w in
                w.array("keys") { a in
                    for k in keys {
                        a.element { e in
                            let x = k.attributes
                            e.field("name", k.name); e.field("sgc", "\(x.supplyGroup)"); e.field("krn", Int(x.revision.value))
                            e.field("ken", Int(x.expiry.value)); e.field("base_date", x.baseDate.year); e.field("expires", k.expires)
                            if let warning = k.warning { e.field("warning", warning) } else { e.null("warning") }
                        }
                    }
                }
            }
        }
        api.get("users") { request, context in
            let actor = try await self.actor(request, context, action: "list users")
            let station = self.station
            let users = try await self.perform("users") { try station.users(by: actor) }
            return JSONResponse.object { w in
                w.array("users") { a in
                    for u in users {
                        a.element { e in
                            e.field("name", u.name); e.field("role", u.role.rawValue); e.field("active", u.active)
                            if u.lockedUntil > 0 { e.field("locked_until", AuditTime.format(u.lockedUntil)) } else { e.null("locked_until") }
                        }
                    }
                }
            }
        }
        // A new user; the answer carries their TOTP secret once, for their authenticator app.
        api.post("users") { request, context in
            let body = try await RequestJSON.read(request, allowed: ["name", "role", "password", "totp"])
            guard let role = Role(rawValue: try body.required("role", max: 16)) else { throw APIError.badRequest("\"role\" is operator, supervisor or auditor") }
            let name = try body.required("name", max: 64), password = try body.required("password", max: 1024)
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "add users", supervisor: true)
            let station = self.station
            let secret = try await self.perform("add user") { try station.addUser(name: name, role: role, password: Array(password.utf8), by: actor) }
            return JSONResponse.object(status: .created) { w in
                w.field("name", name); w.field("role", role.rawValue); w.field("totp_secret", Base32.encode(secret))
            }
        }
        api.post("users/{name}/disable") { request, context in
            let name = try Self.pathParameter(context, "name")
            let body = try await RequestJSON.read(request, allowed: ["totp"])
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "disable users", supervisor: true)
            let station = self.station
            try await self.perform("disable user") { try station.disableUser(name: name, by: actor) }
            self.sessions.closeAll(user: name)
            return JSONResponse.object { w in w.field("name", name); w.field("active", false) }
        }
        api.post("users/{name}/unlock") { request, context in
            let name = try Self.pathParameter(context, "name")
            let actor = try await self.actor(request, context, action: "unlock users", supervisor: true)
            let station = self.station
            try await self.perform("unlock user") { try station.unlockUser(name: name, by: actor) }
            return JSONResponse.object { w in w.field("name", name); w.field("unlocked", true) }
        }
        addCampaignRoutes(to: api)
    }

    func addCampaignRoutes(to api: RouterGroup<StationRequestContext>) {
        api.get("campaigns") { request, context in
            _ = try await self.actor(request, context, action: "read campaigns")
            let station = self.station
            let all = try await self.perform("campaigns") { try station.campaigns().map { ($0, try station.campaignProgress(name: $0)) } }
            return JSONResponse.object { w in
                w.array("campaigns") { a in for (name, p) in all { a.element { e in Self.write(name, p, &e) } } }
            }
        }
        api.post("campaigns") { request, context in
            let body = try await RequestJSON.read(request, allowed: ["name", "from", "to", "totp"])
            let name = try body.required("name", max: 64), from = try body.required("from", max: 64), to = try body.required("to", max: 64)
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "start campaigns", supervisor: true)
            let station = self.station
            let p = try await self.perform("start campaign") { try station.startCampaign(name: name, from: from, to: to, by: actor) }
            return JSONResponse.object(status: .created) { w in Self.write(name, p, &w) }
        }
        api.get("campaigns/{name}") { request, context in
            let name = try Self.pathParameter(context, "name")
            _ = try await self.actor(request, context, action: "read campaigns")
            let station = self.station
            let p = try await self.perform("campaign") { try station.campaignProgress(name: name) }
            return JSONResponse.object { w in Self.write(name, p, &w) }
        }
        // Issues the next `limit` pending key-change sets (each committed on its own: a stopped run resumes).
        api.post("campaigns/{name}/run") { request, context in
            let name = try Self.pathParameter(context, "name")
            let body = try await RequestJSON.read(request, allowed: ["limit"])
            let limit = Int(try body.integer("limit", in: 1...10_000) ?? 100)
            let actor = try await self.actor(request, context, action: "run campaigns", supervisor: true)
            let station = self.station
            let p = try await self.perform("run campaign") { try station.runCampaign(name: name, by: actor, limit: limit) }
            return JSONResponse.object { w in Self.write(name, p, &w) }
        }
    }

    static func write(_ name: String, _ p: CampaignProgress, _ w: inout JSONLineWriter) {
        w.field("name", name); w.field("pending", p.pending); w.field("issued", p.issued); w.field("confirmed", p.confirmed); w.field("total", p.total)
    }

    static func write(_ t: Tariff, version: Int, _ w: inout JSONLineWriter) {
        w.field("name", t.name); w.field("version", version)
        w.array("blocks") { a in
            for b in t.blocks {
                a.element { e in
                    if let up = b.upToTenths { e.rawText("up_to_kwh", Array(EnergyAmount.text(tenths: up).utf8)) } else { e.null("up_to_kwh") }
                    e.rawText("price", Array(b.price.description.utf8))
                }
            }
        }
        w.rawText("fbe_kwh", Array(EnergyAmount.text(tenths: t.freeBasicTenthsPerMonth).utf8))
        w.rawText("vat_percent", Array(Money(cents: t.vatBasisPoints).description.utf8))
        w.object("channel_fees") { o in for (k, v) in t.channelFees.sorted(by: { $0.key < $1.key }) { o.rawText(k, Array(Money(cents: v).description.utf8)) } }
        w.field("time_of_use", t.timeOfUse != nil)
    }

    /// A tariff from its API form: `flat` ("1.50") or `blocks` ([{"up_to_kwh": "350", "price": "1.50"}, {"price": "2.10"}]),
    /// `fbe_kwh`, `vat_percent`, `channel_fees` ({"mobile": "2.00"}), `tou_table` (the text of an sts-tou-table file).
    static func tariff(name: String, _ body: RequestJSON) throws -> Tariff {
        do {
            var blocks: [TariffBlock] = []
            if let flat = try body.string("flat", max: 40) { blocks.append(TariffBlock(upToTenths: nil, price: try EnergyPrice(flat))) }
            if let list = body.object["blocks"] {
                guard blocks.isEmpty, let items = list.array, (1...32).contains(items.count) else {
                    throw APIError.badRequest("give \"flat\" or \"blocks\" (1–32 blocks), not both")
                }
                for item in items {
                    guard let o = item.object, let price = o["price"]?.string, o.pairs.allSatisfy({ ["up_to_kwh", "price"].contains($0.key) }) else {
                        throw APIError.badRequest("a block is {\"up_to_kwh\": \"350\", \"price\": \"1.50\"} (no up_to_kwh for the last)")
                    }
                    let limit: Int64? = try o["up_to_kwh"].flatMap { $0.string }.map { try EnergyPrice($0).perKWhTenThousandths / 1_000 }
                    blocks.append(TariffBlock(upToTenths: limit, price: try EnergyPrice(price)))
                }
            }
            var fees: [String: Money] = [:]
            if let f = body.object["channel_fees"] {
                guard let o = f.object, o.pairs.count <= 32 else { throw APIError.badRequest("\"channel_fees\" is an object of channel → amount") }
                for (k, v) in o {
                    guard let t = v.string else { throw APIError.badRequest("channel fee \(k) must be an amount string") }
                    fees[k] = try Money(t)
                }
            }
            let tou = try body.string("tou_table", max: 16_384).map { text in
                do { return try TimeOfUseTable(text: text) } catch { throw APIError.badRequest("\"tou_table\": \(error)") }
            }
            return try Tariff(name: name, blocks: blocks, freeBasicTenthsPerMonth: try EnergyPrice(try body.string("fbe_kwh", max: 40) ?? "0").perKWhTenThousandths / 1_000,
                              vatBasisPoints: try Money(try body.string("vat_percent", max: 10) ?? "0").cents, channelFees: fees, timeOfUse: tou)
        } catch let e as TariffError {
            throw APIError(.badRequest, e.code, e.description)
        }
    }
}
