import ArgumentParser
import Foundation
import STSHeadEnd
import STSBatch
import STSStation
import STSTariff
import STSTokenFormat

struct SellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sell",
        abstract: "Sell credit: take the money, deduct what is due, issue the token (committed before it is printed).",
        discussion: """
        Deductions in order: channel fee, arrears (in full first), debt recovery, fixed monthly \
        charges, VAT; the rest buys energy, free basic electricity first, then by tariff block. \
        Units are rounded down to an amount a token carries exactly; the unspent cents carry to the \
        next sale. --request-id makes a retry safe: the same id returns the same token. Without it \
        one is generated and printed on stderr before the sale, so a retry can reuse it.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN or meter number.") var meter: String
    // Unconditional: "--money -5" is a (refused) amount, not an unknown option.
    @Option(parsing: .unconditional, help: "Money paid (e.g. 100.00): digits, at most 2 decimals, more than 0.") var money: String?
    @Option(parsing: .unconditional, help: "Energy asked for, kWh (e.g. 25.5; at least 0.1, one decimal); the payment needed is computed.") var units: String?
    @Option(help: "Idempotency key for this sale.") var requestID: String?
    @Option(help: "Sales channel (counter, mobile, agent…).") var channel = "counter"
    @Option(help: "Card meters: the reader holding the customer's card (index, name substring or ATR; default: the only reader with a card).")
    var reader: String?
    @Option(help: "Card meters: seconds to wait for the card.") var wait: Double?
    @Flag(help: "Card meters that also have a keypad: print the token to type in instead of writing the card.") var keypad = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        _ = try SaleAmountOption.parse(money: money, units: units)
    }

    func run() throws {
        try runStation {
            let amount = try SaleAmountOption.parse(money: money, units: units)
            let id = requestID ?? UUID().uuidString.lowercased()
            if requestID == nil { printError("request id: \(id)") }
            let s = try station.open()
            let who = try actor.authenticate(s, action: "sell")
            let request = SaleRequest(meter: try MeterPAN(meterNumber: meter), amount: amount, requestID: id, channel: channel,
                                      delivery: keypad ? .keypad : .automatic)
            if !keypad, try s.meterKind(request.meter) == .card {
                try sellOnCard(s, request, by: who, reader: reader, wait: wait, json: output.json)
                return
            }
            let receipt = try s.sell(request, by: who)
            // A connected meter gets its token through the head-end at once; if the meter does
            // not answer, 'stsvend serve' (or 'stsvend meter deliver') keeps trying.
            var delivery: TokenDelivery?
            if receipt.queuedForDelivery, let d = try s.delivery(sale: receipt.saleID) {
                HeadEnd(station: s, timeout: 2).deliver(d)
                delivery = try s.delivery(sale: receipt.saleID)
            }
            printReceipt(receipt, json: output.json, delivery: delivery)
        }
    }
}

struct ReprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reprint", abstract: "Print an earlier sale's receipt again: the same token, never a new one.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The sale number.") var sale: Int64?
    @Option(help: "The sale's request id.") var requestID: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            guard (sale == nil) != (requestID == nil) else { throw ValidationError("give --sale or --request-id") }
            let s = try station.open()
            let who = try actor.authenticate(s, action: "reprint")
            printReceipt(try s.reprint(sale: sale, requestID: requestID, by: who), json: output.json)
        }
    }
}

struct ReverseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reverse", abstract: "Reverse the latest sale on an account in the books (supervisors); the token itself still works.",
        discussion: """
        A reversal is accounting only: it refunds the money and restores the account, but the token \
        already issued still adds its credit if it is entered into the meter (no token can be \
        recalled). Reverse only when the customer hands back the receipt and the token was not \
        entered, and say so with --confirm-not-entered.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The sale number.") var sale: Int64
    @Option(help: "Why (recorded in the log).") var reason: String
    @Flag(help: "Confirm the token was not entered into the meter (a reversal cannot stop a token that was).") var confirmNotEntered = false

    func validate() throws {
        guard confirmNotEntered else {
            throw ValidationError("a reversal is accounting only: the token still works in the meter. Check it was not entered, then add --confirm-not-entered")
        }
    }

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "reverse")
            let refund = try s.reverse(sale: sale, reason: reason, by: who)
            printLine("sale \(sale) reversed in the books; refund \(refund). The token is not cancelled: if it is entered later, the meter still adds its credit.")
        }
    }
}

/// `--money` / `--units` of a sale, checked as the user typed them (exit 64 when malformed).
enum SaleAmountOption {
    static func parse(money: String?, units: String?) throws -> SaleRequest.Amount {
        do { return try SaleRequest.Amount.parse(money: money, units: units, names: ("--money", "--units")) } catch {
            throw ValidationError(error.description)
        }
    }
}

struct TenantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Tenant changes.", subcommands: [TenantChangeCommand.self])
}

struct TenantChangeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "change", abstract: "Close the meter's account with its balance and open one for the new tenant.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN.") var meter: String
    @Option(help: "The new tenant (created if new).") var customer: String
    @Option(help: "Arrears the new tenant starts with.") var arrears = "0"

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "tenant change")
            let id = try s.changeTenant(meter: try MeterPAN(meterNumber: meter), customer: customer, arrears: try Money(arrears), by: who)
            printLine("account \(id) opened for \(customer)")
        }
    }
}

struct EngineeringCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engineering", abstract: "Issue an engineering token to a meter (supervisors).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN.") var meter: String
    @Option(help: "Set the maximum power limit, watts.") var maxPower: UInt64?
    @Flag(help: "Clear the tamper condition.") var clearTamper = false
    @Option(help: "Clear a credit register (0–7, 65535 for all).") var clearCredit: UInt64?
    @Option(help: "Set the tariff rate (raw 16-bit value).") var tariffRate: UInt64?
    @Option(help: "A class 1 meter test token of this subclass (0: the control bits in --control).") var test: UInt8?
    @Option(help: "Control bits of a test token.") var control: UInt64 = 1
    @Option(help: "Manufacturer code of a test token.") var manufacturer: UInt16 = 0
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            var functions: [EngineeringFunction] = []
            if let maxPower { functions.append(.maximumPower(maxPower)) }
            if clearTamper { functions.append(.clearTamper) }
            if let clearCredit { functions.append(.clearCredit(clearCredit)) }
            if let tariffRate { functions.append(.tariffRate(tariffRate)) }
            if let test { functions.append(.test(subclass: test, control: control, manufacturer: manufacturer)) }
            guard functions.count == 1 else { throw ValidationError("give exactly one of --max-power, --clear-tamper, --clear-credit, --tariff-rate, --test") }
            let s = try station.open()
            let who = try actor.authenticate(s, action: "engineering")
            printReceipt(try s.engineering(functions[0], meter: try MeterPAN(meterNumber: meter), by: who), json: output.json)
        }
    }
}

/// Prints a receipt: JSON (`{"token", "tid", "units", …, "receipt": {…}}`) or text for the counter.
func printReceipt(_ r: SaleReceipt, json: Bool, card: CardDelivery? = nil, delivery: TokenDelivery? = nil) {
    let receipt = String(decoding: r.json, as: UTF8.self)
    if json {
        FileHandle.standardOutput.write(Data(r.resultJSON(card: card, delivery: delivery)))
        return
    }
    guard let o = try? JSON.parse(receipt) else { printLine(receipt); return }
    func s(_ k: String) -> String { o[k]?.string ?? o[k]?.integer.map { "\($0)" } ?? "" }
    var lines = ["\(r.replayed ? "REPRINT — " : "")sale \(r.saleID) · \(s("kind")) · \(s("time"))",
                 "meter \(o["meter"]?["pan"]?.string ?? "")\(o["customer"] != nil ? " · customer \(s("customer"))" : "") · operator \(s("operator"))"]
    if o["money"] != nil {
        lines.append("paid \(s("money"))\(s("carried_in") == "0.00" ? "" : " + carried \(s("carried_in"))") via \(s("channel"))")
        for d in o["deductions"]?.array ?? [] { lines.append("  - \(d["kind"]?.string ?? "") \(d["amount"]?.string ?? "")") }
        for b in o["blocks"]?.array ?? [] {
            let n = b["block"]?.integer ?? 0
            lines.append("  \(n == 0 ? "free basic" : "block \(n)"): \(kWh(b["tenths"]?.integer ?? 0)) kWh @ \(b["price"]?.string ?? "") = \(b["cost"]?.string ?? "")")
        }
        if let asked = o["units_asked"]?.integer { lines.append("units asked \(kWh(asked)) kWh") }
        if let c = o["currency"] {
            lines.append("currency credit \(c["amount"]?.string ?? "") for \(c["cost"]?.string ?? "") · carried to next sale \(s("carried_out"))")
        } else {
            lines.append("units \(kWh(r.unitsTenths)) kWh · carried to next sale \(s("carried_out"))")
        }
    }
    for t in o["tokens"]?.array ?? [] {
        let digits = t["token"]?.string ?? ""
        lines.append("TOKEN  \((try? TokenNumber(digits))?.grouped ?? digits)\(t["tid"]?.integer.map { "   TID \($0)" } ?? "")")
    }
    if let card { lines.append("CARD   purchase \(card.sequence) written to card \(card.serial)\(card.completedPending ? " (completing the pending purchase)" : "")") }
    for w in o["warnings"]?.array ?? [] { lines.append("warning: \(w.string ?? "")") }
    if let d = delivery {
        lines.append(d.state == "pending" ? "METER  not reached yet (\(d.lastError)); the server retries, or key the token in"
                     : "METER  \(d.state == "delivered" ? "delivered, \(d.result)" : d.state == "refused" ? "refused: \(d.result)" : "gave up: \(d.lastError)")")
    }
    printLine(lines.joined(separator: "\n"))
}
