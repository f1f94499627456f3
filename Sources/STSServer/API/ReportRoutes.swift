import Foundation
import Hummingbird
import STSAuditLog
import STSStation
import STSSupport
import STSTariff
import STSTokenFormat

extension StationServer {
    func addReportRoutes(to api: RouterGroup<StationRequestContext>) {
        // The station report for [from, to) (UTC days "2026-12-01"; default: the last 30 days), as JSON or CSV.
        api.get("reports/sales") { request, context in
            _ = try await self.actor(request, context, action: "read reports")
            let (from, to) = try Self.period(request, now: self.station.now())
            let format = String(request.query["format"] ?? "json")
            let station = self.station
            let report = try await self.perform("report") { try station.report(from: from, to: to) }
            switch format {
            case "json": return JSONResponse.bytes(report.json())
            case "csv": return Self.csv(report.csv(), name: "report.csv")
            default: throw APIError.badRequest("\"format\" is json or csv")
            }
        }
        // Credit sales per day and channel: what the console's charts draw.
        api.get("reports/daily") { request, context in
            _ = try await self.actor(request, context, action: "read reports")
            let (from, to) = try Self.period(request, now: self.station.now())
            let station = self.station
            let days = try await self.perform("report") { try station.dailySales(from: from, to: to) }
            return JSONResponse.object { w in
                w.array("days") { a in
                    for d in days {
                        a.element { e in
                            e.field("day", d.day); e.field("channel", d.channel); e.field("sales", Int(d.count))
                            e.rawText("money", Array(Money(cents: d.moneyCents).description.utf8))
                            e.rawText("kwh", Array(EnergyAmount.text(tenths: d.unitsTenths).utf8))
                        }
                    }
                }
            }
        }
        // The whole signed log, as `stsvend audit export` writes it (auditors and supervisors).
        api.post("audit/export") { request, context in
            let actor = try await self.actor(request, context, action: "export the log")
            let station = self.station
            let (bytes, entries, head) = try await self.perform("export") { try station.exportedLog(by: actor) }
            var headers = HTTPFields()
            headers[.contentType] = "application/jsonl"
            headers[.contentDisposition] = "attachment; filename=\"station-log.jsonl\""
            headers[.init("X-Log-Entries")!] = "\(entries)"
            headers[.init("X-Log-Head")!] = head
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        // `audit verify` on the spot: export, then verify offline against the station's public key.
        api.post("audit/verify") { request, context in
            let actor = try await self.actor(request, context, action: "export the log")
            let station = self.station
            let report = try await self.perform("verify") { try station.verifyLogNow(by: actor) }
            return JSONResponse.object { w in
                w.field("clean", report.isClean); w.field("entries", report.entries); w.field("checkpoints", report.checkpoints)
                w.field("sales", report.sales); w.field("reversals", report.reversals); w.field("head", report.head)
                w.rawText("paid", Array(Money(cents: report.paidCents).description.utf8))
                w.array("problems") { a in
                    for p in report.problems.prefix(100) { a.element { e in e.field("line", p.line); e.field("code", p.code); e.field("message", p.message) } }
                }
            }
        }
    }

    static func csv(_ text: String, name: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// `from` and `to` query parameters as UTC days, both included (as `stsvend report`);
    /// default: the last 30 days; at most ten years.
    static func period(_ request: Request, now: Int64) throws -> (Int64, Int64) {
        func day(_ key: String) throws -> Int64? {
            guard let text = request.query[key] else { return nil }
            guard text.utf8.count == 10, let t = try? CivilTime.parseISO8601(String(text) + "T00:00:00Z") else {
                throw APIError.badRequest("\"\(key)\" is a day like 2026-12-01")
            }
            return t
        }
        let to = try day("to").map { $0 + 86_400 } ?? (now / 86_400 + 1) * 86_400
        let from = try day("from") ?? to - 30 * 86_400
        guard from < to, to - from <= 3_660 * 86_400 else { throw APIError.badRequest("\"from\" must come before \"to\", at most ten years apart") }
        return (from, to)
    }
}
