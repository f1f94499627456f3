import Foundation
import Hummingbird
import STSAuditLog
import STSDLMS
import STSHeadEnd
import STSStation
import STSSupport

extension StationServer {
    func addConnectedMeterRoutes(to api: RouterGroup<StationRequestContext>) {
        // Register a meter as connected: its DLMS address and suite 0 keys (supervisor + TOTP).
        api.put("meters/{pan}/connection") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan")).description
            let body = try await RequestJSON.read(request, allowed: ["host", "port", "server_system_title", "client_system_title",
                                                                     "authentication_key", "block_cipher_key", "totp"])
            func hex(_ k: String, _ n: Int) throws -> [UInt8] {
                guard let b = Hex.decode(try body.required(k, max: 2 * n)), b.count == n else { throw APIError.badRequest("\"\(k)\" is \(2 * n) hex digits") }
                return b
            }
            guard let port = Int(try body.required("port", max: 5)), (1...65_535).contains(port) else { throw APIError.badRequest("\"port\" is 1…65535") }
            let link = MeterLink(pan: pan, host: try body.required("host", max: 253), port: port,
                                 serverTitle: try hex("server_system_title", 8), clientTitle: try hex("client_system_title", 8),
                                 blockCipherKey: try hex("block_cipher_key", 16), authenticationKey: try hex("authentication_key", 16))
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "connect meters", supervisor: true)
            let station = self.station, headEnd = self.headEnd
            try await self.perform("connect meter") { try station.connectMeter(link, by: actor); headEnd.forgetLinks() }
            return JSONResponse.object(status: .created) { w in w.field("pan", pan); w.field("address", "\(link.host):\(port)") }
        }
        // Remote disconnect / reconnect (supervisor + TOTP, logged).
        api.post("meters/{pan}/supply") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan")).description
            let body = try await RequestJSON.read(request, allowed: ["relay", "reason", "totp"])
            guard let relay = try body.string("relay", max: 8), relay == "open" || relay == "closed" else {
                throw APIError.badRequest("\"relay\" is \"open\" (disconnect) or \"closed\" (reconnect)")
            }
            let reason = try body.required("reason", max: 200)
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "switch supplies remotely", supervisor: true)
            try await self.headEndWork("switch supply") { [headEnd = self.headEnd] in
                try headEnd.switchSupply(pan: pan, connect: relay == "closed", reason: reason, by: actor)
            }
            return JSONResponse.object { w in w.field("pan", pan); w.field("relay", relay) }
        }
        // Readings, consumption, events and anomaly flags of a connected meter.
        api.get("meters/{pan}/readings") { request, context in
            let pan = try Self.meterPAN(try Self.pathParameter(context, "pan")).description
            _ = try await self.actor(request, context, action: "read meters")
            guard let days = Int64(request.query["days"] ?? "7"), (1...31).contains(days) else { throw APIError.badRequest("\"days\" is 1…31") }
            let station = self.station
            let view = try await self.perform("readings") { try station.connectedMeterView(pan, days: days) }
            return JSONResponse.bytes(Self.readingsJSON(view))
        }
        // Token deliveries by state (`dead` is the dead-letter list).
        api.get("deliveries") { request, context in
            _ = try await self.actor(request, context, action: "read deliveries")
            let state = String(request.query["state"] ?? "dead")
            guard ["pending", "delivered", "refused", "dead"].contains(state) else { throw APIError.badRequest("\"state\" is pending, delivered, refused or dead") }
            let station = self.station
            let list = try await self.perform("deliveries") { try station.deliveries(state: state) }
            return JSONResponse.object { w in
                w.array("deliveries") { a in for d in list { a.element { e in Self.write(d, &e) } } }
            }
        }
        api.post("deliveries/{id}/retry") { request, context in
            let id = try Self.saleID(context)
            let actor = try await self.actor(request, context, action: "retry deliveries", supervisor: true)
            let station = self.station, headEnd = self.headEnd
            let d = try await self.perform("retry delivery") { () -> TokenDelivery? in
                try station.retryDelivery(sale: id, by: actor)
                guard let d = try station.delivery(sale: id) else { return nil }
                headEnd.deliver(d)
                return try station.delivery(sale: id)
            }
            return JSONResponse.object { w in if let d { Self.write(d, &w) } }
        }
    }

    /// Head-end work off the event loop: a meter that does not answer is 503 `meter-unreachable`.
    func headEndWork<T: Sendable>(_ what: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do { return try await blocking(body) } catch let e as StationError { throw APIError(e) } catch let e as DLMSError {
            throw APIError(.serviceUnavailable, "meter-unreachable", "the meter did not complete \(what): \(e)")
        } catch { throw APIError(.internalServerError, "internal", "\(what) failed") }
    }

    static func write(_ d: TokenDelivery, _ w: inout JSONLineWriter) {
        w.field("sale", Int(d.saleID))
        w.field("pan", d.pan)
        w.field("tokens", d.tokens)
        w.field("state", d.state)
        w.field("attempts", d.attempts)
        w.field("result", d.result)
        w.field("last_error", d.lastError)
    }

    static func readingsJSON(_ v: ConnectedMeterView) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        w.field("pan", v.pan)
        w.field("connected", v.connected)
        if let r = v.latest {
            w.object("latest") { o in
                o.field("time", AuditTime.format(r.time))
                o.field("energy_wh", Int(r.energyWh))
                o.field("power_w", Int(r.powerW))
                o.field("credit_tenths_kwh", Int(r.credit))
                o.field("relay_closed", r.relayClosed)
            }
        } else { w.null("latest") }
        w.array("hourly") { a in for (t, wh) in v.hourly { a.element { e in e.field("start", AuditTime.format(t)); e.field("wh", Int(wh)) } } }
        w.array("events") { a in for ev in v.events { a.element { e in e.field("time", AuditTime.format(ev.time)); e.field("code", Int(ev.code)); e.field("event", ev.name) } } }
        w.array("flags") { a in for f in v.flags { a.element { e in e.field("kind", f.kind); e.field("since", AuditTime.format(f.time)); e.field("detail", f.detail) } } }
        w.end()
        return w.bytes
    }
}
