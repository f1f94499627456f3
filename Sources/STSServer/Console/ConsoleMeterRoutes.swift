import Foundation
import Hummingbird
import STSAuditLog
import STSConsole
import STSStation
import STSTariff

extension StationServer {
    func addMeterPages(to router: Router<StationRequestContext>) {
        router.get("/meters/{pan}") { request, context in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, _)):
                let done = request.query["done"].flatMap { q -> String? in
                    if ["tenant", "reversed"].contains(q) { return v.t("meter.done-" + q) }
                    return ["open", "closed"].contains(q) ? v.t("connected.done-" + q) : nil
                }
                return try await self.meterPage(v, request, context, error: nil, notice: done)
            }
        }
        router.get("/meters/{pan}/statement") { request, context in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, _)):
                do {
                    let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
                    let station = self.station
                    let s = try await blocking { try station.statement(meter: pan) }
                    return self.html(MeterPages.statement(v, s), request)
                } catch { return self.problem(v, request, error, back: "/meters") }
            }
        }
        router.post("/meters/{pan}/tenant") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
                    let customer = form.text("customer", max: 200), owed = form.text("arrears", max: 40)
                    guard !customer.isEmpty else { throw StationError.invalid(.customer, v.t("tenant.customer-needed")) }
                    let arrears = owed.isEmpty ? Money.zero : try Money(owed)
                    let station = self.station, actor = s.actor
                    _ = try await blocking { try station.changeTenant(meter: pan, customer: customer, arrears: arrears, by: actor) }
                    return self.redirect("/meters/\(pan)?done=tenant")
                } catch { return try await self.meterPage(v, request, context, error: self.message(error, v.t), notice: nil) }
            }
        }
        router.post("/meters/{pan}/engineering") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
                    let valueText = form.text("value", max: 12)
                    let value = UInt64(valueText)
                    // A value that is there must be a number in range: a typo never becomes "clear every register".
                    guard valueText.isEmpty || (value.map { $0 <= UInt64(UInt32.max) } ?? false) else {
                        throw APIError.badRequest(v.t("engineering.value-needed"))
                    }
                    let function: EngineeringFunction
                    switch form.text("function", max: 32) {
                    case "clear-tamper": function = .clearTamper
                    case "clear-credit": function = .clearCredit(value ?? 65535)
                    case "max-power":
                        guard let value, value <= UInt64(UInt32.max) else { throw APIError.badRequest(v.t("engineering.value-needed")) }
                        function = .maximumPower(value)
                    default: throw APIError.badRequest(v.t("engineering.value-needed"))
                    }
                    let actor = try await self.consoleActor(s, form, context, action: "issue engineering tokens")
                    let station = self.station
                    let receipt = try await blocking { try station.engineering(function, meter: pan, by: actor) }
                    return self.html(ReceiptPage.render(v, receipt), request, status: .created)
                } catch { return try await self.meterPage(v, request, context, error: self.message(error, v.t), notice: nil) }
            }
        }
        router.post("/sales/{id}/reverse") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                let pan = form.text("pan", max: 40)
                do {
                    let id = try Self.saleID(context)
                    guard form["confirm_not_entered"] == "yes" else { throw APIError.badRequest(v.t("reverse.confirm-needed")) }
                    let reason = form.text("reason", max: 500)
                    let actor = try await self.consoleActor(s, form, context, action: "reverse", requireCode: true)
                    let station = self.station
                    _ = try await blocking { try station.reverse(sale: id, reason: reason, by: actor) }
                    return self.redirect("/meters/\(HTML.urlComponent(pan))?done=reversed")
                } catch {
                    return self.html(SupervisorPages.problem(v, title: v.t("error.title"), message: self.message(error, v.t), back: "/meters/\(HTML.urlComponent(pan))"),
                                     request, status: (error as? StationError).map(APIError.status) ?? .badRequest)
                }
            }
        }
        router.post("/audit/verify") { request, _ in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, _)):
                do {
                    let station = self.station, actor = s.actor
                    let report = try await blocking { try station.verifyLogNow(by: actor) }
                    return self.html(MeterPages.verification(v, report), request)
                } catch { return self.problem(v, request, error, back: "/meters") }
            }
        }
    }

    func meterPage(_ v: ConsoleViewer, _ request: Request, _ context: StationRequestContext, error: String?, notice: String?) async throws -> Response {
        do {
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan"))
            let station = self.station
            let (o, connected) = try await blocking { () -> (MeterOverview, ConnectedMeterView?) in
                let o = try station.meterOverview(pan, sales: 50)
                let c = try station.isConnected(pan.description) ? try station.connectedMeterView(pan.description, days: 7) : nil
                return (o, c)
            }
            return self.html(MeterPages.meter(v, o, error: error, notice: notice, connected: connected), request, status: error == nil ? .ok : .conflict)
        } catch { return problem(v, request, error, back: "/meters") }
    }

    func problem(_ v: ConsoleViewer, _ request: Request, _ error: Error, back: String?) -> Response {
        html(SupervisorPages.problem(v, title: v.t("error.title"), message: message(error, v.t), back: back), request,
             status: (error as? StationError).map(APIError.status) ?? (error as? APIError)?.status ?? .badRequest)
    }
}
