import Foundation
import STSSupport
import STSStation

extension StationServer {
    /// One sale for the API and the console alike. Keypad sales go straight to the group commit
    /// (no read of their own before it). A card meter answers `card-meter-needs-card` there and
    /// is written to the card in the server machine's reader instead; a card sale that comes
    /// again (same request id) goes to the card again, so a purchase a pulled card left pending
    /// is written now. Returns the receipt and, for a card sale, the card it went onto.
    func sell(_ sale: SaleRequest, by actor: Actor, reader: String?) async throws -> (receipt: SaleReceipt, card: CardDelivery?) {
        switch await sales.sell(sale, by: actor) {
        case let .success(receipt) where !(receipt.replayed && receipt.isCardSale):
            return (receipt, nil)
        case .success, .failure(.refused(.cardMeterNeedsCard)):
            guard let cardSale = configuration.cardSale else {
                throw APIError(.conflict, "card-meter-needs-card", "meter \(sale.meter) is a card meter and this server has no card reader configured")
            }
            let station = self.station
            let result = try await perform("sell") { try cardSale(station, sale, actor, reader) }
            guard let receipt = result.receipt else {
                throw APIError(.conflict, "card-journal-purchase", "the card's pending purchase (from an imported journal) was completed; it has no station receipt")
            }
            return (receipt, CardDelivery(sequence: result.purchase.sequence, serial: result.serial, completedPending: result.completedPending))
        case let .failure(e):
            throw APIError(e)
        }
    }
}

extension StationServer {
    /// A connected meter's delivery after a sale: the token goes to the meter's gateway now
    /// (within ``Configuration/deliveryTimeout``), so the answer can say "delivered, accepted"
    /// or the meter's refusal; if the meter does not answer, the head-end keeps retrying and the
    /// answer says "pending". Never a second sale: the delivery carries the sale's own tokens.
    func delivery(after receipt: SaleReceipt) async -> TokenDelivery? {
        guard receipt.queuedForDelivery || receipt.replayed else { return nil }
        let station = self.station, headEnd = self.headEnd
        let wait = configuration.deliveryTimeout
        return try? await blocking { () -> TokenDelivery? in
            guard let d = try station.delivery(sale: receipt.saleID) else { return nil }
            guard d.state == "pending" else { return d }
            let attempt = headEnd.deliver(d)
            // The worker may hold this delivery (a replay, a retry): wait for its answer a while.
            if attempt.results == nil, attempt.error == "another attempt is under way" {
                let deadline = Date().addingTimeInterval(wait)
                while Date() < deadline {
                    if let now = try station.delivery(sale: receipt.saleID), now.state != "pending" { return now }
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            return try station.delivery(sale: receipt.saleID)
        }
    }
}

extension SaleReceipt {
    /// Whether the receipt is a card meter's purchase (its signed receipt names the card).
    var isCardSale: Bool { (try? JSON.parse(String(decoding: json, as: UTF8.self)))?["card"] != nil }
}
