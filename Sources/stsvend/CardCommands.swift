import ArgumentParser
import Foundation
import STSBatch
import STSBenchmark
import STSCard
import STSCardEmulator
import STSCrypto
import STSMeterSimulator
import STSPCSC
import STSStation
import STSTokenFormat
import STSVending

/// `stsvend card …`: IC cards for card-type meters, through a PC/SC reader.
struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card",
        abstract: "Issue user cards, sell purchases onto them, read them back (PC/SC readers).",
        discussion: "Reader selection (--reader): an index, part of the reader name, or the card's ATR in hex; default: the first reader holding a card. With --db the station's card issuer key is used (stsvend key import --card-issuer) and card sales go through 'stsvend sell'; without it, card keys come from --issuer-key-file (32 hex digits, mode 0600). Card layout: Specs/card.md.",
        subcommands: [CardReadersCommand.self, CardIssueCommand.self, CardSellCommand.self, CardReadCommand.self, CardVoidCommand.self,
                      CardImportJournalCommand.self, CardEmulateCommand.self, CardBenchCommand.self]
    )
}

struct ReaderOptions: ParsableArguments {
    @Option(help: "Reader: index, name substring or ATR hex (default: first reader with a card).") var reader: String?
    @Option(help: "Seconds to wait for a card.") var wait: Double?
    @Flag(name: .shortAndLong, help: "Print the APDU trace on stderr (keys and MACs masked).") var verbose = false

    /// Connects to the chosen reader's card and runs `body` inside an exclusive transaction.
    func withCard<T>(_ body: (inout CardSession<PCSCCard>) throws -> T) throws -> T {
        try Self.withCard(reader: reader, wait: wait, verbose: verbose, body)
    }

    static func withCard<T>(reader: String?, wait: Double?, verbose: Bool, _ body: (inout CardSession<PCSCCard>) throws -> T) throws -> T {
        let context = try PCSCContext()
        let name = try context.chooseReader(reader, waitSeconds: wait)
        let card = try context.connect(name, trace: verbose ? APDUTrace() : nil)
        try card.beginTransaction()
        defer { card.endTransaction() }
        var session = CardSession(channel: card)
        return try body(&session)
    }
}

struct IssuerKeyOption: ParsableArguments {
    @Option(name: .customLong("issuer-key-file"), help: "The issuer master key (AES-128, 32 hex digits, mode 0600); not with --db, where the station's own key is used.")
    var issuerKeyFile: String?

    func key() throws -> IssuerMasterKey {
        guard let issuerKeyFile else { throw ValidationError("give --issuer-key-file (or --db to use a station's card issuer key)") }
        return try SecretFile.key(issuerKeyFile) { try IssuerMasterKey(bytes: $0) }
    }
}

enum CardJSON {
    static func hex(_ b: [UInt8]) -> String { Hex.upper(b) }

    static func write(_ c: CardVending.Contents, to w: inout JSONLineWriter) {
        w.field("pan", c.info.meter.description)
        w.field("serial", hex(c.serial))
        w.field("type", c.info.type.description)
        w.field("issuer", Int(c.info.issuer))
        if let p = c.purchase {
            w.object("purchase") { o in
                o.field("sequence", Int(p.sequence)); o.field("tokens", p.tokens.map(\.digits)); o.field("units", UInt64(p.units))
                o.field("tid", UInt64(p.tid))
                o.field("credit_type", p.kind.description); o.field("station", Int(p.station))
                o.field("sold_at", CivilTime.formatMinutes(Int64(p.issuedMinute)))
                o.field("applied", c.unappliedPurchase == nil)
            }
        } else {
            w.raw("purchase", .null)
        }
        if let r = c.returned {
            w.object("return") { o in
                o.field("last_sequence", Int(r.lastSequence)); o.field("result_code", Int(r.result))
                o.raw("credit_kwh", .number(DecimalQuantity.format(Int128(r.creditTenths), scale: 1)))
                o.raw("consumption_kwh", .number(DecimalQuantity.format(Int128(r.consumptionTenths), scale: 1)))
                o.field("tamper", r.flags & ReturnRecord.tamperFlag != 0); o.field("relay_open", r.flags & ReturnRecord.relayOpenFlag != 0)
                o.field("sequence_gap", r.flags & ReturnRecord.sequenceGapFlag != 0)
                o.field("written_at", CivilTime.formatMinutes(Int64(r.minute))); o.field("verified", true)
            }
        } else {
            w.raw("return", .null)
        }
    }
}

struct CardReadersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "readers", abstract: "List PC/SC readers, with card presence and ATR.")
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let context = try PCSCContext()
            let names = try context.readers()
            let states = names.isEmpty ? [] : try context.states(names)
            if output.json {
                printLine("[" + states.enumerated().map { i, s in
                    MeterView.json { w in w.field("index", i); w.field("name", s.name); w.field("card", s.cardPresent); w.field("atr", CardJSON.hex(s.atr)) }
                }.joined(separator: ",") + "]")
            } else {
                if states.isEmpty { printLine("no readers") }
                for (i, s) in states.enumerated() { printLine("\(i)  \(s.name)  \(s.cardPresent ? "card " + CardJSON.hex(s.atr) : "empty")") }
            }
        }
    }
}

struct CardIssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue", abstract: "Personalise a blank card as the user card of a meter.",
        discussion: "At a station: --db, --user, --password-file, --meter (a meter registered with --card); the station's card issuer key is used and the card is recorded. Without --db: --issuer-key-file and --pan.")
    @OptionGroup var readerOptions: ReaderOptions
    @OptionGroup var issuer: IssuerKeyOption
    @OptionGroup var station: OptionalStationOptions
    @Option(help: "The meter PAN (or 11/13-digit meter number) the card is bound to (without --db).") var pan: String?
    @Option(help: "The registered card meter the card is for (with --db).") var meter: String?
    @Option(name: .customLong("issuer-id"), help: "Utility/issuer number written on the card (without --db).") var issuerID: UInt32 = 1
    @OptionGroup var output: OutputOptions

    func run() throws {
        if station.db != nil {
            try runStation {
                guard let meter, pan == nil, issuer.issuerKeyFile == nil else {
                    throw ValidationError("with --db give --meter PAN (not --pan or --issuer-key-file: the station's card issuer key is used)")
                }
                let (s, who) = try station.openAndAuthenticate(action: "card issue")
                let pan = try MeterPAN(meterNumber: meter)
                let info = try readerOptions.withCard { try s.issueCard(&$0, meter: pan, by: who) }
                printIssued(info, meter: pan)
            }
            return
        }
        try runReporting {
            guard let pan else { throw ValidationError("give --pan (or --db and --meter to issue from a station)") }
            let meter = try MeterPAN(meterNumber: pan)
            let master = try issuer.key()
            let info = try readerOptions.withCard { try CardVending.issue(&$0, master: master, meter: meter, issuer: issuerID) }
            printIssued(info, meter: meter)
        }
    }

    func printIssued(_ info: CardInfo, meter: MeterPAN) {
        if output.json {
            printLine(MeterView.json { w in w.field("ok", true); w.field("pan", meter.description); w.field("serial", CardJSON.hex(info.serial)); w.field("type", info.type.description) })
        } else {
            printLine("Card \(CardJSON.hex(info.serial)) issued for meter \(meter)")
        }
    }
}

struct CardReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read", abstract: "Read and verify a card: identity, purchase, and what the meter wrote back.",
        discussion: "At a station (--db, --user, --password-file) the station's card issuer key is used and its pending purchase for the card, if any, is shown; without --db give --issuer-key-file.")
    @OptionGroup var readerOptions: ReaderOptions
    @OptionGroup var issuer: IssuerKeyOption
    @OptionGroup var station: OptionalStationOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        if station.db != nil {
            try runStation {
                guard issuer.issuerKeyFile == nil else { throw ValidationError("with --db the station's card issuer key is used: leave out --issuer-key-file") }
                let (s, who) = try station.openAndAuthenticate(action: "card read")
                let reading = try readerOptions.withCard { try s.readCard(&$0, by: who) }
                show(reading.contents, reading: reading)
            }
            return
        }
        try runReporting {
            let master = try issuer.key()
            let contents = try readerOptions.withCard { try CardVending.read(&$0, master: master) }
            show(contents, reading: nil)
        }
    }

    func show(_ contents: CardVending.Contents, reading: CardReading?) {
        if output.json {
            printLine(MeterView.json { w in
                CardJSON.write(contents, to: &w)
                if let reading {
                    w.object("station") { o in
                        if let p = reading.pending {
                            o.object("pending") { $0.field("sequence", Int(p.record.sequence)); $0.field("tid", UInt64(p.record.tid)); if let id = p.saleID { $0.field("sale", Int(id)) } }
                        } else { o.null("pending") }
                        o.field("unapplied_voided", reading.unappliedVoided)
                    }
                }
            })
            return
        }
        printLine("Card     \(CardJSON.hex(contents.serial)) (\(contents.info.type)) for meter \(contents.info.meter)")
        if let p = contents.purchase {
            printLine("Purchase \(p.sequence): \(DecimalQuantity.format(Int128(p.units), scale: 1)) \(p.kind) \(contents.unappliedPurchase == nil ? "applied" : "not yet applied")")
        }
        if let r = contents.returned {
            printLine("Meter    applied purchase \(r.lastSequence); credit \(DecimalQuantity.format(Int128(r.creditTenths), scale: 1)) kWh; consumption \(DecimalQuantity.format(Int128(r.consumptionTenths), scale: 1)) kWh; at \(CivilTime.formatMinutes(Int64(r.minute)))")
        }
        if let p = reading?.pending { printLine("Station  purchase \(p.record.sequence) is pending: it is written the next time this card is sold to") }
        if reading?.unappliedVoided == true { printLine("Station  the purchase on the card was voided: the next sale replaces it") }
    }
}

struct CardEmulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate", abstract: "Run our card application as a virtual card behind vpcd (pcscd + vsmartcard-vpcd).",
        discussion: "The card's memory lives in --image (created blank, with a random serial, when missing). Runs until pcscd closes the connection or the process is stopped.")
    @Option(help: "vpcd's TCP port (35963: 'Virtual PCD 00 00', 35964: '… 00 01').") var port: UInt16 = 35963
    @Option(help: "The card image file.") var image: String
    @Option(help: "Serial for a new card (16 hex digits).") var serial: String?
    @Option(name: .customLong("pull-after"), help: ArgumentHelp("Test hook: remove the card after this many APDUs.", visibility: .hidden))
    var pullAfter: Int?

    func run() throws {
        try runReporting {
            var serialBytes: [UInt8]? = nil
            if let serial {
                guard let b = Hex.decode(serial), b.count == 8 else { throw ValidationError("--serial takes 16 hex digits") }
                serialBytes = b
            }
            // Stoppable by SIGTERM/SIGINT even when started by a parent that blocks them.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGTERM)
            sigaddset(&set, SIGINT)
            sigprocmask(SIG_UNBLOCK, &set, nil)
            signal(SIGTERM, SIG_DFL)
            signal(SIGINT, SIG_DFL)
            try VirtualCardEmulator(imagePath: image, port: port, serial: serialBytes).run(pullAfter: pullAfter)
        }
    }
}

struct CardSellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sell", abstract: "Write a purchase onto the card of a meter.",
        discussion: """
        Issues the credit token for the card's meter and writes it as the card's next purchase \
        (sequence + 1), read back and verified before the sale counts as delivered. A sale whose \
        write was interrupted (card pulled) stays pending in the journal and is completed, not \
        sold again, the next time the card is presented. A card whose last purchase the meter has \
        not applied yet takes no new purchase.
        """)
    @OptionGroup var readerOptions: ReaderOptions
    @OptionGroup var issuer: IssuerKeyOption
    @Option(help: "The meter PAN (default: the meter the card is issued for; if given, it must match).") var pan: String?
    @Option(help: "Supply group code, 6 digits.") var sgc: String
    @Option(help: "Tariff index.") var ti: Int
    @Option var krn: Int = 1
    @Option var kt: Int = 2
    @Option var ken: Int = 255
    @Option(name: .customLong("base-date")) var baseDate: Int
    @Option var dkga: Int
    @Option var ea: Int
    @Option(name: .customLong("vending-key-file"), help: "The vending key (hex, mode 0600).") var vendingKeyFile: String
    @Option(help: "Credit in transfer units (0.1 kWh).") var units: UInt64
    @Option(name: .customLong("station-id"), help: "This vending station's number.") var stationID: UInt32 = 1
    @Option(help: "The card sales journal (pending and delivered sales).") var journal = "stsvend-card-sales.jsonl"
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let master = try issuer.key()
            let vendingKey = try SecretFile.key(vendingKeyFile) { try VendingKey(bytes: $0) }
            let sale = try readerOptions.withCard { session in
                try JournalCardSale.sell(&session, master: master, vendingKey: vendingKey, units: units, stationID: stationID,
                                         journal: CardSalesJournal(path: journal), clock: meterClock) { cardMeter in
                    // The meter is the one the card was issued for; --pan, when given, must agree.
                    try MeterOptions.profile(pan: pan ?? cardMeter.description, sgc: sgc, ti: ti, krn: krn, kt: kt, ken: ken, baseDate: baseDate, dkga: dkga, ea: ea)
                }
            }
            let record = sale.record
            if output.json {
                printLine(MeterView.json { w in
                    w.field("ok", true); w.field("sequence", Int(record.sequence)); w.field("tokens", record.tokens.map(\.digits))
                    w.field("tid", UInt64(record.tid)); w.field("units", UInt64(record.units)); w.field("serial", sale.serial)
                    w.field("completed_pending", sale.completedPending)
                })
            } else {
                printLine((sale.completedPending ? "Completed pending purchase " : "Purchase ") + "\(record.sequence) on card \(sale.serial) for meter \(sale.meter)")
                for t in record.tokens { printLine("Token  \(t.grouped)") }
                printLine("Units  \(DecimalQuantity.format(Int128(record.units), scale: 1)) kWh")
            }
        }
    }
}

struct MeterInsertCardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert-card", abstract: "Insert a user card: apply its purchase and write the meter's readings back.",
        discussion: "Results: accept (purchase applied), used (already applied), sequence-gap, wrong-meter, or the token's result when refused. The meter state is saved before the card is written, so a card pulled mid-write is recognised as applied next time.")
    @OptionGroup var stateOption: StateOption
    @OptionGroup var readerOptions: ReaderOptions
    @OptionGroup var issuer: IssuerKeyOption
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runReporting {
            let master = try issuer.key()
            let (outcome, meter) = try readerOptions.withCard { try StateFile.insertCard(&$0, master: master, into: stateOption.state, clock: meterClock) }
            if output.json {
                printLine(MeterView.json { w in
                    w.field("result", outcome.result)
                    if let s = outcome.sequence { w.field("sequence", Int(s)) }
                    w.field("token_results", outcome.tokenResults.map(\.rawValue))
                    MeterView.write(meter, to: &w, events: false)
                })
            } else {
                printLine("Card       \(outcome.result)" + (outcome.sequence.map { "   purchase \($0)" } ?? ""))
                MeterView.text(meter, events: false).forEach(printLine)
            }
        }
    }
}

struct CardBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure APDU round trips per second and a full card read through the reader.")
    @OptionGroup var readerOptions: ReaderOptions
    @Option(help: "APDUs to send.") var count = 2000
    @OptionGroup var output: OutputOptions

    func validate() throws { guard count >= 1 else { throw ValidationError("--count must be at least 1") } }

    func run() throws {
        try runReporting {
            let r = try readerOptions.withCard { try CardBenchmark.run(&$0, count: count) }
            if output.json {
                printLine(MeterView.json { w in
                    w.field("apdus_per_second", Int(r.apdusPerSecond))
                    w.raw("apdu_ms", .number(String(format: "%.3f", r.apduMilliseconds)))
                    w.raw("card_read_ms", .number(String(format: "%.2f", r.cardReadMilliseconds)))
                })
            } else {
                printLine("\(Int(r.apdusPerSecond)) APDUs/s (\(String(format: "%.3f", r.apduMilliseconds)) ms each); full card read (select, serial, 3 files): \(String(format: "%.2f", r.cardReadMilliseconds)) ms")
            }
        }
    }
}
