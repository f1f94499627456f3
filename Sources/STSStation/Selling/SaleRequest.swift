import STSTariff
import STSTokenFormat

/// A request to sell credit to a meter.
public struct SaleRequest: Sendable, Equatable {
    /// What the customer asks for: an amount of money, or an amount of energy (tenths of a kWh).
    public enum Amount: Sendable, Equatable {
        /// Money paid in; the tariff turns it into energy (or currency credit) after deductions.
        case money(Money)
        /// Energy asked for, in tenths of a kWh; the station works out what it costs.
        case units(Int64)
    }

    /// The meter to credit.
    public var meter: MeterPAN
    /// Money paid or energy asked for.
    public var amount: Amount
    /// The idempotency key: the same id returns the original sale and token, never a new one.
    public var requestID: String
    /// Where the money came in ("counter", "mobile", "agent"…); the tariff may charge a fee for it.
    public var channel: String
    /// How the credit reaches a card meter: on its card (the default), or as a printed token the
    /// customer types on the meter's keypad. Keypad meters always take printed tokens.
    public var delivery: Delivery
    /// Whether free basic electricity due is issued as a token of its own (before the token for
    /// the units bought), as point-of-sale interfaces list it; one token carries both otherwise.
    public var separateFreeToken = false

    /// How a sale's token reaches the meter.
    public enum Delivery: String, Sendable, Equatable {
        /// A keypad meter's printed token; a card meter's purchase on its card.
        case automatic
        /// A printed token, also for a card meter that has a keypad.
        case keypad
    }

    /// A request, sold at the counter and delivered the meter's usual way unless told otherwise.
    public init(meter: MeterPAN, amount: Amount, requestID: String, channel: String = "counter", delivery: Delivery = .automatic) {
        self.meter = meter
        self.amount = amount
        self.requestID = requestID
        self.channel = channel
        self.delivery = delivery
    }

    /// What must match when a request id comes again.
    var fingerprint: String {
        let base = switch amount {
        case let .money(m): "credit|\(meter)|money:\(m)|\(channel)"
        case let .units(u): "credit|\(meter)|units:\(u)|\(channel)"
        }
        let printed = delivery == .keypad ? base + "|keypad" : base
        return separateFreeToken ? printed + "|free-token" : printed
    }
}

/// A recorded sale (credit, engineering or key change) as its receipt: the JSON object stored
/// with the sale and written to the log, read back unchanged for reprints.
public struct SaleReceipt: Sendable {
    /// The receipt object's JSON text.
    public let json: [UInt8]
    /// The sale id, shared by credit sales, engineering tokens and key changes (what reprints and reversals name).
    public let saleID: Int64
    /// The 20-digit tokens in the order the meter takes them.
    public let tokens: [String]
    /// The credit token's TID (nil for key changes and sales that bought no energy).
    public let tid: Int64?
    /// Tenths of a kWh the credit token carries.
    public let unitsTenths: Int64
    /// True when this is the record of an earlier request (retry or reprint), not a new sale.
    public var replayed = false
    /// Whether the sale's meter is connected: a delivery through its token gateway was queued
    /// with the sale (``Station/delivery(sale:)``).
    public var queuedForDelivery = false
    /// How the sale was priced (set on a new sale; nil on a record read back).
    public internal(set) var breakdown: SaleBreakdown?
}
