import Foundation
import Hummingbird
import STSStation
import STSSupport
import STSTariff
import STSTokenFormat

extension StationServer {
    func addSaleRoutes(to api: RouterGroup<StationRequestContext>) {
        // A sale: Idempotency-Key is the request id; the same key again returns the original sale.
        api.post("sales") { request, context in
            guard let key = request.headers[.init("Idempotency-Key")!], (1...128).contains(key.utf8.count),
                  key.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw APIError(.badRequest, "idempotency-key-required", "a sale needs an Idempotency-Key header (1–128 printable characters): the same key again returns the same sale")
            }
            let body = try await RequestJSON.read(request, allowed: ["meter", "money", "units", "channel", "reader", "keypad"])
            let sale = try Self.saleRequest(body, requestID: key)
            let actor = try await self.actor(request, context, action: "sell")
            let (receipt, card) = try await self.sell(sale, by: actor, reader: try body.string("reader", max: 128))
            let delivery = await self.delivery(after: receipt)
            return JSONResponse.bytes(receipt.resultJSON(card: card, delivery: delivery), status: receipt.replayed ? .ok : .created)
        }
        // What a sale would come to, without selling (the console's preview).
        api.post("sales/quote") { request, context in
            let body = try await RequestJSON.read(request, allowed: ["meter", "money", "units", "channel"])
            let sale = try Self.saleRequest(body, requestID: "quote")
            let actor = try await self.actor(request, context, action: "sell")
            let station = self.station
            let quote = try await self.perform("quote") { try station.quote(sale, by: actor) }
            return JSONResponse.bytes(Self.quoteJSON(quote))
        }
        api.get("sales/{id}") { request, context in
            let id = try Self.saleID(context)
            let actor = try await self.actor(request, context, action: "reprint")
            let station = self.station
            let (receipt, delivery) = try await self.perform("reprint") { (try station.reprint(sale: id, by: actor), try station.delivery(sale: id)) }
            return JSONResponse.bytes(receipt.resultJSON(delivery: delivery))
        }
        api.post("sales/{id}/reversal") { request, context in
            let id = try Self.saleID(context)
            let body = try await RequestJSON.read(request, allowed: ["reason", "totp", "confirm_not_entered"])
            let reason = try body.required("reason", max: 500)
            guard try body.bool("confirm_not_entered") == true else {
                throw APIError.badRequest("a reversal refunds the money but cannot recall the token: confirm the customer handed back the receipt and the token was not entered (\"confirm_not_entered\": true)")
            }
            let actor = try await self.actor(request, context, totp: try body.required("totp", max: 16), action: "reverse", supervisor: true)
            let station = self.station
            let refund = try await self.perform("reverse") { try station.reverse(sale: id, reason: reason, by: actor) }
            return JSONResponse.object { w in
                w.field("sale", Int(id))
                w.rawText("refund", Array(refund.description.utf8))
            }
        }
    }

    /// A path parameter, percent-decoded (Hummingbird hands them over as sent): 1–200 bytes of
    /// valid UTF-8 without control characters, else 400.
    static func pathParameter(_ context: StationRequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name), let text = raw.removingPercentEncoding, (1...200).contains(text.utf8.count),
              !text.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else {
            throw APIError.badRequest("the \(name) in the path is not valid")
        }
        return text
    }

    static func saleID(_ context: StationRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else { throw APIError.badRequest("a sale id is a positive whole number") }
        return id
    }

    static func meterPAN(_ text: String) throws -> MeterPAN {
        do { return try MeterPAN(meterNumber: text) } catch {
            throw APIError(.badRequest, "invalid-meter", "\"\(text.prefix(40))\" is not a meter number (\(error))")
        }
    }

    static func saleRequest(_ body: RequestJSON, requestID: String) throws -> SaleRequest {
        let meter = try meterPAN(try body.required("meter", max: 40))
        let amount: SaleRequest.Amount
        let money = try body.string("money", max: 40), units = try body.string("units", max: 40)
        do { amount = try .parse(money: money, units: units) } catch { throw APIError(error) }
        let channel = try body.string("channel", max: 32) ?? "counter"
        guard !channel.isEmpty, channel.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }) else {
            throw APIError.badRequest("\"channel\" is 1–32 lower-case letters, digits, - or _")
        }
        return SaleRequest(meter: meter, amount: amount, requestID: requestID, channel: channel,
                           delivery: try body.bool("keypad") == true ? .keypad : .automatic)
    }

    static func quoteJSON(_ q: SaleBreakdown) -> [UInt8] {
        var w = JSONLineWriter()
        w.begin()
        w.rawText("paid", Array(q.paid.description.utf8))
        w.rawText("carried_in", Array(q.carriedIn.description.utf8))
        w.array("deductions") { a in
            for d in q.deductions { a.element { e in e.field("kind", d.kind.rawValue); e.rawText("amount", Array(d.amount.description.utf8)) } }
        }
        w.array("blocks") { a in
            for b in q.blocks {
                a.element { e in
                    e.field("block", b.block); e.field("tenths", Int(b.tenths))
                    e.rawText("price", Array(b.price.description.utf8)); e.rawText("cost", Array(b.cost.description.utf8))
                }
            }
        }
        w.rawText("units", Array(EnergyAmount.text(tenths: q.unitsEncoded).utf8))
        w.field("units_tenths", Int(q.unitsEncoded))
        w.rawText("carried_out", Array(q.carriedOut.description.utf8))
        if let c = q.currency { w.rawText("currency", Array(DecimalQuantity.format(c.units, scale: 5).utf8)) }
        w.end()
        return w.bytes
    }
}
