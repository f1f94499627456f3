import STSBatch
import STSTariff
import STSTokenFormat
import STSVending

/// A credit sale as the station records it: the `data` of its `sale` log entry, which is also the
/// receipt it stores and reprints. The one type the station writes and whose member names the
/// verifier reads by (``Member``), so the two never keep separate lists (`audit-log.md` §4).
public struct SaleEntry: Sendable {
    /// The member names, in the order they are written.
    public enum Member {
        /// The sale id, the idempotency key a retried sale is matched by, and the entry kind (`"credit"`).
        public static let sale: StaticString = "sale", requestID: StaticString = "request_id", kind: StaticString = "kind"
        /// When it was sold, the meter object (with its vending key's name) and the account charged.
        public static let time: StaticString = "time", meter: StaticString = "meter", account: StaticString = "account"
        /// Who bought, who sold, and the sales channel (`counter`, `mobile`, `agent`, …) channel fees depend on.
        public static let customer: StaticString = "customer", `operator`: StaticString = "operator", channel: StaticString = "channel"
        /// The tariff version the payment was priced under, and the money paid in.
        public static let tariff: StaticString = "tariff", tariffVersion: StaticString = "tariff_version", money: StaticString = "money"
        /// Credit carried from the account's previous sale, the deductions in order, and the energy per tariff block.
        public static let carriedIn: StaticString = "carried_in", deductions: StaticString = "deductions", blocks: StaticString = "blocks"
        /// The tenths of a kWh asked for (`--units` sales) and the tenths the credit token carries.
        public static let unitsAsked: StaticString = "units_asked", unitsTenths: StaticString = "units_tenths"
        /// A currency meter's currency credit, the energy money carried to the next sale, and the tokens issued.
        public static let currency: StaticString = "currency", carriedOut: StaticString = "carried_out", tokens: StaticString = "tokens"
        /// The card a card meter's purchase was written to, and warnings such as a key expiring soon.
        public static let card: StaticString = "card", warnings: StaticString = "warnings"
    }

    /// The card a card meter's purchase is written to, and its number there.
    public struct Card: Sendable {
        /// The card serial, 16 upper-case hex digits.
        public var serial: String
        /// The purchase number the sale is written under on that card.
        public var sequence: UInt32
        /// A card reference from the card's serial and the purchase number.
        public init(serial: String, sequence: UInt32) {
            self.serial = serial
            self.sequence = sequence
        }
    }

    /// The sale id, one sequence shared by credit sales, engineering tokens and key changes.
    public var sale: Int64
    /// The idempotency key: a retry with it returns this receipt and writes no new entry.
    public var requestID: String
    /// When it was sold (Unix seconds, written as UTC ISO 8601).
    public var time: Int64
    /// The meter and the name of the vending key its token was made under.
    public var meter: MeterProfile
    /// The station's name for that vending key (the key an auditor looks up in the keys file).
    public var vendingKey: String
    /// The account charged; the verifier follows carried credit, reversals and card voids by it.
    public var account: Int64
    /// The customer's name, as printed on the receipt.
    public var customer: String
    /// The user who made the sale.
    public var `operator`: String
    /// The sales channel (`counter`, `mobile`, `agent`, …), which decides the channel fee.
    public var channel: String
    /// The name of the tariff the payment was priced under.
    public var tariff: String
    /// The version of that tariff used (each `tariff set` adds one): the exact prices of this sale.
    public var tariffVersion: Int
    /// How the payment was priced: deductions, blocks, units and what carries over.
    public var breakdown: SaleBreakdown
    /// The credit token (none when the payment bought no energy).
    public var tokens: [IssuedToken]
    /// For a card meter's sale onto its card: the card and the purchase number (none otherwise).
    public var card: Card?
    /// Warnings for the operator, e.g. the vending key expiring within 30 days.
    public var warnings: [String]

    /// A sale entry from its parts.
    public init(sale: Int64, requestID: String, time: Int64, meter: MeterProfile, vendingKey: String, account: Int64, customer: String,
                operator: String, channel: String, tariff: String, tariffVersion: Int, breakdown: SaleBreakdown, tokens: [IssuedToken],
                card: Card? = nil, warnings: [String] = []) {
        self.sale = sale
        self.requestID = requestID
        self.time = time
        self.meter = meter
        self.vendingKey = vendingKey
        self.account = account
        self.customer = customer
        self.operator = `operator`
        self.channel = channel
        self.tariff = tariff
        self.tariffVersion = tariffVersion
        self.breakdown = breakdown
        self.tokens = tokens
        self.card = card
        self.warnings = warnings
    }

    /// The entry's JSON object, members in ``Member`` order, no whitespace.
    public var bytes: [UInt8] {
        let b = breakdown
        var w = JSONLineWriter()
        w.begin()
        w.field(Self.name(Member.sale), Int(sale))
        w.field(Self.name(Member.requestID), requestID)
        w.field(Self.name(Member.kind), "credit")
        w.field(Self.name(Member.time), AuditTime.format(time))
        w.object(Self.name(Member.meter)) { MeterJSON.write(meter, vendingKey: vendingKey, to: &$0) }
        w.field(Self.name(Member.account), Int(account))
        w.field(Self.name(Member.customer), customer)
        w.field(Self.name(Member.operator), `operator`)
        w.field(Self.name(Member.channel), channel)
        w.field(Self.name(Member.tariff), tariff)
        w.field(Self.name(Member.tariffVersion), tariffVersion)
        w.field(Self.name(Member.money), b.paid.description)
        w.field(Self.name(Member.carriedIn), b.carriedIn.description)
        w.array(Self.name(Member.deductions)) { w in
            for d in b.deductions { w.element { $0.field("kind", d.kind.rawValue); $0.field("amount", d.amount.description) } }
        }
        w.array(Self.name(Member.blocks)) { w in
            for u in b.blocks {
                w.element {
                    $0.field("block", u.block)
                    $0.field("price", u.price.description)
                    $0.field("tenths", Int(u.tenths))
                    $0.field("cost", u.cost.description)
                }
            }
        }
        if let asked = b.unitsAsked { w.field(Self.name(Member.unitsAsked), Int(asked)) } else { w.null(Self.name(Member.unitsAsked)) }
        w.field(Self.name(Member.unitsTenths), Int(b.unitsEncoded))
        if let currency = b.currency {
            w.object(Self.name(Member.currency)) { c in
                c.field("cost", currency.cost.description)
                c.field("amount", DecimalQuantity.format(currency.units, scale: 5))
            }
        }
        w.field(Self.name(Member.carriedOut), b.carriedOut.description)
        Self.write(tokens: tokens, to: &w)
        if let card {
            w.object(Self.name(Member.card)) { c in
                c.field("serial", card.serial)
                c.field("sequence", Int(card.sequence))
            }
        }
        w.field(Self.name(Member.warnings), warnings)
        w.close()
        return w.bytes
    }

    /// Tokens as entry objects: digits, TID (when the token has one), class and subclass. Sales,
    /// engineering and key-change entries write them alike.
    public static func write(tokens: [IssuedToken], to w: inout JSONLineWriter) {
        w.array(name(Member.tokens)) { w in
            for t in tokens {
                w.element {
                    $0.field("token", t.number.description)
                    if let tid = t.content.tid { $0.field("tid", Int(tid.value)) }
                    $0.field("class", Int(t.content.tokenClass.rawValue))
                    $0.field("subclass", Int(t.dataBlock.subclass))
                }
            }
        }
    }

    static func name(_ s: StaticString) -> String { s.description }
}
