import ArgumentParser
import Foundation
import STSCard
import STSPCSC
import STSStation
import STSTokenFormat

/// `--db` and the acting user, for commands that also work without a station (`card issue`, `card read`).
struct OptionalStationOptions: ParsableArguments {
    @Option(help: "The station database (SQLite); with it the station's card issuer key is used.") var db: String?
    @Option(help: "Key-encryption key file (default: DB.kek; mode 0600).") var kekFile: String?
    @Option(help: "The acting user (with --db).") var user: String?
    @Option(help: "File holding the user's password (mode 0600).") var passwordFile: String?
    @Option(help: "The current code from the user's authenticator.") var totp: String?

    func openAndAuthenticate(action: String) throws -> (Station, Actor) {
        guard let db else { throw ValidationError("give --db") }
        guard let user else { throw ValidationError("with --db give --user (and --password-file)") }
        let s = try StationOptions.open(db: db, kekFile: kekFile)
        let who = try ActorOptions.authenticate(s, user: user, passwordFile: passwordFile, totp: totp, action: action)
        return (s, who)
    }
}

struct CardVoidCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void",
        abstract: "Withdraw a card purchase the meter refused, or a pending one another station overtook (supervisor + --totp).",
        discussion: """
        The purchase is marked voided and logged; the energy and VAT it bought go back to the \
        account as carried credit, so the next sale delivers them (fees and debts it paid stay \
        paid). The card then takes the next sale, numbered after the last purchase its meter applied.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The card meter's PAN.") var meter: String
    @Option(help: "The purchase number on the card.") var sequence: UInt32
    @Option(help: "Why (recorded in the log).") var reason: String
    @Option(help: "The reader holding the card (default: the only reader with a card).") var reader: String?
    @Option(help: "Seconds to wait for the card.") var wait: Double?
    @Flag(name: .customLong("without-card"), help: "Void a pending purchase (never written) without its card: a lost card, or one another station overtook.")
    var withoutCard = false
    @Option(help: "With --without-card: the card's serial, when several cards of the meter have a purchase with that number.") var serial: String?
    @Flag(help: "Confirm the purchase's token (printed on its receipt) was not typed into the meter's keypad (no void can stop a token that was); without it a reminder is printed.")
    var confirmNotEntered = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if serial != nil, !withoutCard { throw ValidationError("--serial goes with --without-card (with the card in the reader its serial is read)") }
    }

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "card void")
            let pan = try MeterPAN(meterNumber: meter)
            let r = withoutCard
                ? try s.voidCardPurchase(meter: pan, sequence: sequence, serial: serial?.uppercased(), reason: reason, by: who)
                : try withStationCard(reader: reader, wait: wait) {
                    try s.voidCardPurchase(meter: pan, sequence: sequence, reason: reason, by: who, card: &$0)
                }
            if !confirmNotEntered {
                printError("warning: the purchase is off the card, but its token printed on the sale's receipt still works on the meter's keypad: make sure the customer did not type it in")
            }
            if output.json {
                printLine(MeterView.json { w in
                    w.field("ok", true); w.field("pan", r.purchase.meter.description); w.field("serial", r.purchase.serial)
                    w.field("sequence", Int(r.purchase.record.sequence)); w.field("tid", UInt64(r.purchase.record.tid))
                    if let id = r.purchase.saleID { w.field("sale", Int(id)) } else { w.null("sale") }
                    w.field("credit_restored", r.creditRestored.description); w.field("carried_credit", r.carriedCredit.description)
                })
            } else {
                printLine("card purchase \(r.purchase.record.sequence) of meter \(r.purchase.meter) voided; \(r.creditRestored) back on the account as carried credit (now \(r.carriedCredit)); the card takes the next sale")
            }
        }
    }
}

struct CardImportJournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-journal",
        abstract: "Move a 'card sell' sales journal into the station, once (supervisors).",
        discussion: "Purchases for meters the station holds become card purchases (pending ones are completed when their card is sold to next); each meter's TIDs move past the journal's, so keypad and card sales never share one. Repeating the import changes nothing.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The journal file (stsvend-card-sales.jsonl).") var journal: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "card import-journal")
            let r = try s.importCardJournal(CardSalesJournal(path: journal), by: who)
            if output.json {
                printLine(MeterView.json { w in
                    w.field("entries", r.entries); w.field("imported", r.imported); w.field("pending", r.pending); w.field("skipped", r.skipped)
                })
            } else {
                printLine("\(r.imported) card purchases imported (\(r.pending) pending) from \(r.entries) journal entries; \(r.skipped) left out (not a card meter of this station, or an unusable record)")
            }
        }
    }
}

/// `stsvend sell` for a card meter: the purchase goes onto the card in the reader.
/// Runs a station operation on the card in the reader; a reader or card that cannot be reached
/// is the station's `card-unreachable` (exit 7), like a card pulled during the operation.
func withStationCard<T>(reader: String?, wait: Double?, _ body: (inout CardSession<PCSCCard>) throws -> T) throws -> T {
    do { return try ReaderOptions.withCard(reader: reader, wait: wait, verbose: false, body) } catch let e as PCSCError {
        throw StationError.cardUnreachable(e.description)
    }
}

func sellOnCard(_ s: Station, _ request: SaleRequest, by who: Actor, reader: String?, wait: Double?, json: Bool) throws {
    let result = try withStationCard(reader: reader, wait: wait) { try s.sellOnCard(request, by: who, card: &$0) }
    let card = CardDelivery(sequence: result.purchase.sequence, serial: result.serial, completedPending: result.completedPending)
    if let receipt = result.receipt {
        if result.completedPending, !json { printError("the card's pending purchase \(result.purchase.sequence) (sale \(receipt.saleID)) was completed instead of a new sale") }
        printReceipt(receipt, json: json, card: card)
        return
    }
    // A pending purchase imported from a card sales journal: there is no station receipt.
    if json {
        printLine(MeterView.json { w in
            w.null("sale"); w.field("tokens", result.purchase.tokens.map(\.digits)); w.field("tid", UInt64(result.purchase.tid))
            w.field("units_tenths", Int(result.purchase.units)); w.field("replayed", true)
            w.object("card") { $0.field("sequence", Int(card.sequence)); $0.field("serial", card.serial); $0.field("completed_pending", true) }
        })
    } else {
        printLine("Completed pending purchase \(card.sequence) (from the imported card journal) on card \(card.serial)")
        for t in result.purchase.tokens { printLine("TOKEN  \(t.grouped)") }
    }
}
