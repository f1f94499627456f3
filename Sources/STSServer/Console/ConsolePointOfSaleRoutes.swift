import Foundation
import Hummingbird
import STSConsole
import STSStation

extension StationServer {
    /// `/pos`: point-of-sale clients and their fault reports (supervisors and auditors); a
    /// supervisor resolves a report from it.
    func addPointOfSalePages(to router: Router<StationRequestContext>) {
        router.get("/pos") { request, _ in
            switch await self.consoleUser(request) {
            case let .failure(r): return r
            case let .success((v, s)): return try await self.pointOfSalePage(v, s, request, error: nil, notice: nil)
            }
        }
        router.post("/pos/faults/{reference}/resolve") { request, context in
            switch try await self.consoleForm(request) {
            case let .failure(r): return r
            case let .success((v, s, form)):
                do {
                    guard let reference = context.parameters.get("reference", as: Int64.self), reference > 0 else { throw APIError.badRequest("reference") }
                    let note = form.text("note", max: 500)
                    let actor = try await self.consoleActor(s, form, context, action: "resolve fault reports")
                    let station = self.station
                    try await blocking { try station.resolvePOSFault(reference, note: note, by: actor) }
                    return try await self.pointOfSalePage(v, s, request, error: nil, notice: v.t("pos.resolved", "\(reference)"))
                } catch { return try await self.pointOfSalePage(v, s, request, error: self.message(error, v.t), notice: nil) }
            }
        }
    }

    func pointOfSalePage(_ v: ConsoleViewer, _ s: Session, _ request: Request, error: String?, notice: String?) async throws -> Response {
        let station = self.station, actor = s.actor
        do {
            let (clients, faults) = try await blocking { (try station.posClients(by: actor), try station.posFaults(by: actor)) }
            return html(PointOfSalePages.page(v, clients: clients, faults: faults, error: error, notice: notice), request, status: error == nil ? .ok : .badRequest)
        } catch { return problem(v, request, error, back: "/sell") }
    }
}
