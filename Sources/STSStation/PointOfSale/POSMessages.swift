import Foundation
import STSTariff
import STSTokenFormat

/// Where a point-of-sale message came from, as settlement needs it: the institution that
/// originated it, the merchant and terminal, and the entity the merchant settles with.
public struct POSOrigin: Sendable, Equatable {
    /// The originating institution's id, the merchant's id, the terminal's id, and the
    /// settlement entity's id (empty when the message names none).
    public var institution: String, merchant: String, terminal: String, settlement: String

    /// An origin from its four ids.
    public init(institution: String, merchant: String, terminal: String, settlement: String) {
        self.institution = institution
        self.merchant = merchant
        self.terminal = terminal
        self.settlement = settlement
    }
}

/// One message from a point-of-sale client that has an effect: its id (unique for ever, across
/// clients), who sent it, where it came from, and its canonical text (a retry must match it).
public struct POSMessage: Sendable {
    /// The message id (a UUID in the Electrum interface).
    public var id: String
    /// The client that sent it.
    public var client: POSClient
    /// The origin it names.
    public var origin: POSOrigin
    /// The request's canonical text: what must be the same when the purchase is retried.
    public var fingerprint: String

    /// A message.
    public init(id: String, client: POSClient, origin: POSOrigin, fingerprint: String) {
        self.id = id
        self.client = client
        self.origin = origin
        self.fingerprint = fingerprint
    }
}

/// What a point-of-sale answer is made from: the committed sale, priced, with its meter and customer.
public struct POSSale: Sendable {
    /// The sale's receipt (its id, tokens, signed receipt object).
    public let receipt: SaleReceipt
    /// How it was priced.
    public let breakdown: SaleBreakdown
    /// The meter's identity and the customer on its account.
    public let meter: POSMeterView
    /// The tariff's VAT rate in basis points (1500: 15 %).
    public let vatBasisPoints: Int64
    /// When it was sold (Unix seconds).
    public let time: Int64

    /// The sale's tokens with what each carries: the free basic electricity token first where it
    /// is one of its own (``SaleRequest/separateFreeToken``).
    public var tokens: [POSToken] {
        let numbers = receipt.tokens
        if numbers.count == 2, breakdown.freeTenths > 0 {
            return [POSToken(number: numbers[0], tenths: breakdown.freeTenths, free: true),
                    POSToken(number: numbers[1], tenths: breakdown.purchasedTenths, free: false)]
        }
        return numbers.map { POSToken(number: $0, tenths: breakdown.unitsEncoded, free: breakdown.purchasedTenths == 0 && breakdown.freeTenths > 0) }
    }
}

/// One token of a point-of-sale purchase.
public struct POSToken: Sendable, Equatable {
    /// The 20 digits.
    public let number: String
    /// Tenths of a kWh it carries (0 for a currency meter's token).
    public let tenths: Int64
    /// Whether it carries only free basic electricity.
    public let free: Bool
}

/// A meter as a point of sale sees it before selling: identity, customer, and what is owed.
public struct POSMeterView: Sendable {
    /// The meter's 18-digit PAN and the STS identity its tokens are made for.
    public let pan: MeterPAN, supplyGroup: String, tariffIndex: String, keyRevision: String
    /// The encryption algorithm's code as two digits ("07" STA, "11" MISTY1).
    public let algorithmCode: String
    /// Keypad or card, energy or currency.
    public let kind: MeterKind, credit: MeterCredit
    /// The customer on the open account, and where the meter is installed.
    public let customer: String, address: String
    /// Why the meter is blocked from sales; nil when it is not.
    public let blockedReason: String?
    /// What the account owes: arrears (taken first), debt (recovered gradually), fixed charges due.
    public let arrears: Money, debt: Money, fixedChargesDue: Money
    /// Tenths of a kWh of free basic electricity still due this month.
    public let freeTenthsDue: Int64
}

/// A stored answer to a point-of-sale message: what a repeat of it gets.
public struct POSAnswer: Sendable {
    /// The answer's body as it was first sent.
    public let body: [UInt8]
    /// The outcome: `issued` (a purchase), `confirmed`, `reversed`, `declined` or `unmatched` (advices).
    public let state: String
    /// True when this is the stored answer to a message seen before.
    public let replayed: Bool
}

/// A point-of-sale advice: a confirmation that the customer paid, or a reversal.
public enum POSAdviceKind: String, Sendable {
    /// The purchase is final at the point of sale.
    case confirmation
    /// The point of sale asks for the purchase to be undone (it timed out, or was cancelled).
    case reversal
}

extension Station {
    /// Point-of-sale clients vend through the central station: an offline lane's local store
    /// (which uploads only its chain) does not take them.
    func requirePOSStore() throws {
        guard offlineLane == .none else { throw StationError.refused(.offlineLaneSellsOnly(action: "take point-of-sale purchases")) }
    }

    /// A meter for a point of sale's lookup (any enabled client): identity, customer, what is owed.
    public func posMeter(_ pan: MeterPAN) throws -> POSMeterView {
        try requirePOSStore()
        return try read { tx in try tx.posMeterView(pan.description).view }
    }
}

extension StoreTransaction {
    /// The meter as a point of sale sees it, and the tariff it is sold on.
    func posMeterView(_ pan: String) throws -> (view: POSMeterView, tariff: Tariff) {
        let m = try meter(pan)
        let account = try openAccount(meter: pan)
        let address = try String.fetchOne(db.cachedStatement(sql: "SELECT address FROM meters WHERE pan = ?"), arguments: [pan]) ?? ""
        let (tariff, _) = try station.cachedTariff(m.tariff, self)
        let free = m.credit == .energy ? SalePricing(tariff: tariff, channel: "pos").freeUnitsDue(account: account.position) : 0
        func twoDigits(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let sgc = String(repeating: "0", count: max(0, 6 - m.profile.supplyGroup.description.count)) + m.profile.supplyGroup.description
        let view = POSMeterView(pan: m.profile.pan, supplyGroup: sgc, tariffIndex: twoDigits(Int(m.profile.tariffIndex.value)),
                            keyRevision: "\(m.profile.revision.value)", algorithmCode: twoDigits(m.profile.encryption.rawValue),
                            kind: m.kind, credit: m.credit, customer: account.customer, address: address, blockedReason: m.blockedReason,
                            arrears: account.position.arrears, debt: account.position.debt,
                            fixedChargesDue: account.position.fixedChargesDue, freeTenthsDue: free)
        return (view, tariff)
    }

    /// Refuses a client disabled since its request was authenticated (the server remembers a
    /// client's credentials a few seconds): every message with an effect checks it here.
    func requireEnabled(_ client: POSClient) throws {
        guard client.enabled,
              try Bool.fetchOne(db.cachedStatement(sql: "SELECT enabled <> 0 FROM pos_clients WHERE name = ?"), arguments: [client.name]) == true else {
            throw StationError.refused(.posClientRefused)
        }
    }

    /// The stored message with this id, if any.
    func posMessage(_ id: String) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT id, client, kind, original_id, fingerprint, state, sale_id, meter_pan, response FROM pos_messages WHERE id = ?"),
                         arguments: [id])
    }

    func insertPOSMessage(_ m: POSMessage, kind: String, originalID: String?, state: String, sale: Int64?, meter: String?, response: [UInt8]) throws {
        try db.cachedStatement(sql: """
            INSERT INTO pos_messages (id, client, kind, original_id, fingerprint, state, sale_id, meter_pan, response,
                institution, merchant, terminal, settlement, created_at, updated_at, station)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [m.id, m.client.name, kind, originalID, m.fingerprint, state, sale, meter, Data(response),
                             m.origin.institution, m.origin.merchant, m.origin.terminal, m.origin.settlement, now, now, station.stationID])
    }
}
