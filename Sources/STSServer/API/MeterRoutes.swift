import Hummingbird
import STSAuditLog
import STSStation
import STSSupport
import STSTariff
import STSTokenFormat

extension StationServer {
    func addMeterRoutes(to api: RouterGroup<StationRequestContext>) {
        api.get("meters") { request, context in
            _ = try await self.actor(request, context, action: "find meters")
            let query = String(request.query["query"] ?? "")
            guard let limit = Int(request.query["limit"] ?? "50"), (1...500).contains(limit) else { throw APIError.badRequest("\"limit\" is a whole number 1…500") }
            let station = self.station
            let found = try await self.perform("find meters") { try station.findMeters(query: query, limit: limit) }
            return JSONResponse.object { w in
                w.array("meters") { a in for m in found { a.element { e in Self.write(m, &e) } } }
            }
        }
        api.post("meters") { request, context in
            let body = try await RequestJSON.read(request, allowed: ["pan", "key", "tariff", "customer", "address", "kind", "credit", "arrears", "debt",
                                                                     "debt_recovery_percent", "fixed_monthly"])
            let pan = try Self.meterPAN(try body.required("pan", max: 40))
            guard let kind = MeterKind(rawValue: try body.string("kind", max: 16) ?? "keypad"),
                  let credit = MeterCredit(rawValue: try body.string("credit", max: 16) ?? "energy") else {
                throw APIError.badRequest("\"kind\" is keypad or card; \"credit\" is energy or currency")
            }
            func money(_ k: String) throws -> Money {
                guard let t = try body.string(k, max: 40) else { return .zero }
                do { return try Money(t) } catch { throw APIError.badRequest("\"\(k)\": \(error)") }
            }
            var recovery: Int64 = 0
            if let t = try body.string("debt_recovery_percent", max: 10) {
                do { recovery = try Money(t).cents } catch { throw APIError.badRequest("\"debt_recovery_percent\": \(error)") }
            }
            let registration = MeterRegistration(pan: pan, keyName: try body.required("key", max: 64), tariff: try body.required("tariff", max: 64),
                                                 customer: try body.required("customer", max: 200), kind: kind, credit: credit,
                                                 arrears: try money("arrears"), debt: try money("debt"), debtRecoveryBasisPoints: recovery,
                                                 fixedMonthly: try money("fixed_monthly"), address: try body.string("address", max: 200) ?? "")
            let actor = try await self.actor(request, context, action: "register meters")
            let station = self.station
            let account = try await self.perform("register meter") { try station.addMeter(registration, by: actor) }
            return JSONResponse.object(status: .created) { w in w.field("pan", pan.description); w.field("account", Int(account)) }
        }
        api.get("meters/{pan}") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
            _ = try await self.actor(request, context, action: "read meters")
            let station = self.station
            let o = try await self.perform("read meter") { try station.meterOverview(pan) }
            return JSONResponse.bytes(Self.overviewJSON(o))
        }
        api.get("meters/{pan}/statement") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
            _ = try await self.actor(request, context, action: "read statements")
            let station = self.station
            let s = try await self.perform("statement") { try station.statement(meter: pan) }
            return JSONResponse.object { w in
                w.field("pan", pan.description)
                w.field("customer", s.overview.meter.customer)
                w.array("sales") { a in
                    for l in s.lines {
                        a.element { e in
                            e.field("sale", Int(l.sale.sale)); e.field("log_seq", Int(l.logSeq)); e.field("log_hash", l.logHash)
                            e.field("reversed", l.sale.reversed); e.rawText("receipt", l.receipt.json)
                        }
                    }
                }
            }
        }
        api.post("meters/{pan}/tenant") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
            let body = try await RequestJSON.read(request, allowed: ["customer", "arrears"])
            let customer = try body.required("customer", max: 200)
            var owed = Money.zero
            if let t = try body.string("arrears", max: 40) { do { owed = try Money(t) } catch { throw APIError.badRequest("\"arrears\": \(error)") } }
            let arrears = owed
            let actor = try await self.actor(request, context, action: "change tenants")
            let station = self.station
            let account = try await self.perform("tenant change") { try station.changeTenant(meter: pan, customer: customer, arrears: arrears, by: actor) }
            return JSONResponse.object(status: .created) { w in w.field("pan", pan.description); w.field("account", Int(account)) }
        }
        api.post("meters/{pan}/engineering") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
            let body = try await RequestJSON.read(request, allowed: ["function", "value", "totp"])
            let value = try body.integer("value", in: 0...Int64(UInt32.max))
            let function: EngineeringFunction
            switch try body.required("function", max: 32) {
            case "clear-tamper": function = .clearTamper
            case "clear-credit": function = .clearCredit(UInt64(value ?? 65535))
            case "max-power":
                guard let value else { throw APIError.badRequest("\"max-power\" needs \"value\" (watts)") }
                function = .maximumPower(UInt64(value))
            case "tariff-rate":
                guard let value, value <= 65535 else { throw APIError.badRequest("\"tariff-rate\" needs \"value\" 0…65535") }
                function = .tariffRate(UInt64(value))
            default: throw APIError.badRequest("\"function\" is clear-tamper, clear-credit, max-power or tariff-rate")
            }
            let code = try body.string("totp", max: 16)
            let actor = try await self.actor(request, context, totp: code?.isEmpty == true ? nil : code, action: "issue engineering tokens", supervisor: true)
            let station = self.station
            let receipt = try await self.perform("engineering") { try station.engineering(function, meter: pan, by: actor) }
            return JSONResponse.bytes(receipt.resultJSON(), status: .created)
        }
        api.post("meters/{pan}/key-change") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
            let body = try await RequestJSON.read(request, allowed: ["key", "totp"])
            let key = try body.required("key", max: 64)
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "change keys", supervisor: true)
            let station = self.station
            let receipt = try await self.perform("key change") { try station.changeKey(meter: pan, to: key, by: actor) }
            return JSONResponse.bytes(receipt.resultJSON(), status: .created)
        }
    }

    static func write(_ m: MeterSummary, _ e: inout JSONLineWriter) {
        e.field("pan", m.pan); e.field("customer", m.customer); e.field("kind", m.kind.rawValue)
        e.field("credit", m.credit.rawValue); e.field("tariff", m.tariff); e.field("address", m.address)
    }

    static func overviewJSON(_ o: MeterOverview) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        w.object("meter") { e in write(o.meter, &e) }
        w.object("account") { a in
            let p = o.position
            a.field("id", Int(o.account))
            a.rawText("arrears", Array(p.arrears.description.utf8)); a.rawText("debt", Array(p.debt.description.utf8))
            a.rawText("fixed_due", Array(p.fixedChargesDue.description.utf8)); a.rawText("carried_credit", Array(p.carriedCredit.description.utf8))
            a.rawText("month_kwh", Array(EnergyAmount.text(tenths: p.monthPurchasedTenths).utf8))
            a.rawText("month_free_kwh", Array(EnergyAmount.text(tenths: p.monthFreeTenths).utf8))
        }
        w.array("sales") { a in
            for s in o.sales {
                a.element { e in
                    e.field("sale", Int(s.sale)); e.field("kind", s.kind); e.field("time", AuditTime.format(s.time))
                    e.rawText("money", Array(Money(cents: s.moneyCents).description.utf8))
                    e.rawText("units", Array(EnergyAmount.text(tenths: s.unitsTenths).utf8))
                    if let t = s.tid { e.field("tid", Int(t)) } else { e.null("tid") }
                    e.field("operator", s.operatorName); e.field("channel", s.channel); e.field("reversed", s.reversed)
                }
            }
        }
        w.end()
        return w.bytes
    }
}
