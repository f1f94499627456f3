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

extension SaleReceipt {
    /// Whether the receipt is a card meter's purchase (its signed receipt names the card).
    var isCardSale: Bool { (try? JSON.parse(String(decoding: json, as: UTF8.self)))?["card"] != nil }
}
