import Foundation
import Hummingbird
import STSConsole
import STSStation

extension StationServer {
    func addConnectedPages(to router: Router<StationRequestContext>) {
        router.get("/connected") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, _)):
                do {
                    let station = self.station
                    let page = try await blocking {
                        ConnectedMeterPages.headEnd(v, dead: try station.deliveries(state: "dead"), pending: try station.deliveries(state: "pending"),
                                                    alerts: try station.alerts(), deadNotifications: try station.deadNotifications(),
                                                    notice: request.query["done"] == "retry" ? v.t("headend.done-retry") : nil)
                    }
                    return self.html(page, request)
                } catch { return self.problem(v, request, error, back: "/sell") }
            }
        }
        router.post("/deliveries/{id}/retry") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, _)):
                do {
                    let id = try Self.saleID(context)
                    let station = self.station, headEnd = self.headEnd, actor = s.actor
                    try await blocking {
                        try station.retryDelivery(sale: id, by: actor)
                        if let d = try station.delivery(sale: id) { headEnd.deliver(d) }
                    }
                    return self.redirect("/connected?done=retry")
                } catch { return self.problem(v, request, error, back: "/connected") }
            }
        }
        router.post("/meters/{pan}/supply") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    let pan = try Self.meterPAN(try Self.pathParameter(context, "pan")).description
                    let relay = form.text("relay", max: 8), reason = form.text("reason", max: 200)
                    guard relay == "open" || relay == "closed", !reason.isEmpty else { throw APIError.badRequest(v.t("reverse.reason")) }
                    let actor = try await self.consoleActor(s, form, context, action: "switch supplies remotely", requireCode: true)
                    try await self.headEndWork("switch supply") { [headEnd = self.headEnd] in
                        try headEnd.switchSupply(pan: pan, connect: relay == "closed", reason: reason, by: actor)
                    }
                    return self.redirect("/meters/\(pan)?done=\(relay)#connected")
                } catch { return try await self.meterPage(v, request, context, error: self.message(error, v.t), notice: nil) }
            }
        }
    }
}
