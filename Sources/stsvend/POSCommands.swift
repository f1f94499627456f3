import ArgumentParser
import Foundation
import STSAuditLog
import STSStation
import STSSupport
import STSTariff
import STSTokenFormat

/// `stsvend pos …`: point-of-sale networks that vend through the Electrum Prepaid Utility
/// interface (`/prepaidutility/v3` on `stsvend serve`).
struct POSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pos",
        abstract: "Point-of-sale networks: their clients (credentials, addresses, limits) and the faults they report.",
        discussion: """
        A POS aggregator vends through the Electrum Prepaid Utility Service Interface v3 under \
        /prepaidutility/v3 of 'stsvend serve', with HTTP Basic credentials: the client's name and \
        the secret 'pos client add' writes to --secret-out (mode 0600). See Specs/prepaid-utility.md.
        """,
        subcommands: [POSClientCommand.self, POSFaultsCommand.self])
}

struct POSClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Add, list, enable, disable point-of-sale clients, or give one a new secret.",
        subcommands: [POSClientAddCommand.self, POSClientListCommand.self, POSClientEnableCommand.self, POSClientDisableCommand.self,
                      POSClientRenewCommand.self])
}

struct POSClientAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Give a POS aggregator access (supervisor + --totp): writes its secret to --secret-out (0600), logs the client without it.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The client's name (its HTTP Basic user name): 1–32 lower-case letters, digits, '-', '_', '.'.") var name: String
    @Option(help: "ISO 4217 numeric code of the currency its amounts are in (710 ZAR, 566 NGN, 404 KES); minor units are cents.") var currency: String
    @Option(help: "Smallest purchase (money, e.g. 5.00).") var min: String = "1.00"
    @Option(help: "Largest purchase (money, e.g. 5000.00).") var max: String = "10000.00"
    @Option(name: .customLong("allow-ip"), help: "An address or network (CIDR) it may connect from; repeat for more (none: anywhere).") var allowIP: [String] = []
    @Flag(help: "Let its reversal advices reverse purchases by the station's reversal rules (default: every reversal is declined).") var reversals = false
    @Option(help: "File to create (mode 0600) holding the client's secret; hand it to the aggregator over a safe channel.") var secretOut: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let rules = try allowIP.flatMap { try SourceAddressRule.list($0) }
            guard let minimum = try? Money(min), let maximum = try? Money(max) else { throw ValidationError("--min and --max are amounts of money (5.00)") }
            let client = POSClient(name: name, allowedSources: rules, currency: currency, minimum: minimum, maximum: maximum, reversals: reversals)
            try POSSecretFile.requireNew(secretOut)
            let s = try station.open()
            let who = try actor.authenticate(s, action: "pos client add")
            try POSSecretFile.write(try s.addPOSClient(client, by: who), to: secretOut,
                                    failure: "the client was added but its secret could not be written to \(secretOut)")
            if output.json {
                var w = JSONLineWriter()
                w.begin(); POSClientJSON.write(client, &w); w.field("secret_file", secretOut); w.end()
                FileHandle.standardOutput.write(Data(w.bytes))
            } else {
                printLine("point-of-sale client \(client.name) added: HTTP Basic user \(client.name), secret in \(secretOut) (mode 0600)")
                printLine("it vends at /prepaidutility/v3 of 'stsvend serve' in currency \(client.currency), \(client.minimum)–\(client.maximum) a purchase")
            }
        }
    }
}

struct POSClientListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every point-of-sale client: limits, addresses, whether enabled (never a secret).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            let clients = try s.posClients(by: try actor.authenticate(s, action: "pos client list"))
            if output.json {
                var w = JSONLineWriter()
                w.begin()
                w.array("clients") { a in for c in clients { a.element { POSClientJSON.write(c, &$0) } } }
                w.end()
                FileHandle.standardOutput.write(Data(w.bytes))
                return
            }
            for c in clients {
                let sources = c.allowedSources.isEmpty ? "any address" : c.allowedSources.map(\.description).joined(separator: ",")
                printLine("\(c.name)\t\(c.enabled ? "enabled" : "disabled")\tcurrency \(c.currency)\t\(c.minimum)–\(c.maximum)\treversals \(c.reversals ? "allowed" : "declined")\t\(sources)")
            }
        }
    }
}

struct POSClientEnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Let a disabled client vend again (supervisor + --totp).")
    @OptionGroup var change: POSClientChange

    func run() throws { try change.set(enabled: true) }
}

struct POSClientDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Stop a client (supervisor + --totp): its purchases and advices are refused at once, everything else within 5 seconds.")
    @OptionGroup var change: POSClientChange

    func run() throws { try change.set(enabled: false) }
}

/// Which client a supervisor enables or disables.
struct POSClientChange: ParsableArguments {
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The client's name.") var name: String

    func set(enabled: Bool) throws {
        try runStation {
            let s = try station.open()
            try s.setPOSClient(name, enabled: enabled, by: try actor.authenticate(s, action: enabled ? "pos client enable" : "pos client disable"))
            printLine("point-of-sale client \(name) \(enabled ? "enabled" : "disabled")")
        }
    }
}

struct POSClientRenewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "renew-secret", abstract: "Give a client a new secret (supervisor + --totp); the server stops taking the old one within 5 seconds.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The client's name.") var name: String
    @Option(help: "File to create (mode 0600) holding the new secret.") var secretOut: String

    func run() throws {
        try runStation {
            try POSSecretFile.requireNew(secretOut)
            let s = try station.open()
            try POSSecretFile.write(try s.renewPOSClientSecret(name, by: try actor.authenticate(s, action: "pos client renew-secret")), to: secretOut,
                                    failure: "the secret was changed but could not be written to \(secretOut)")
            printLine("point-of-sale client \(name) has a new secret in \(secretOut) (mode 0600)")
        }
    }
}

struct POSFaultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults", abstract: "Fault reports from points of sale (open ones; --all for every one); --resolve N marks one resolved.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Flag(help: "Resolved reports too.") var all = false
    @Option(help: "Mark this fault reference resolved (supervisor).") var resolve: Int64?
    @Option(help: "A note for --resolve.") var note: String = ""
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "pos faults")
            if let resolve {
                try s.resolvePOSFault(resolve, note: note, by: who)
                printLine("fault \(resolve) resolved")
                return
            }
            let faults = try s.posFaults(all: all, by: who)
            if output.json {
                var w = JSONLineWriter()
                w.begin()
                w.array("faults") { a in
                    for f in faults {
                        a.element { e in
                            e.field("reference", Int(f.reference)); e.field("client", f.client); e.field("meter", f.meter)
                            e.field("fault", f.faultType); e.field("description", f.description); e.field("contact", f.contact)
                            e.field("customer", f.customer); e.field("reported_at", AuditTime.format(f.reportedAt))
                            if let r = f.resolvedAt { e.field("resolved_at", AuditTime.format(r)) }
                        }
                    }
                }
                w.end()
                FileHandle.standardOutput.write(Data(w.bytes))
                return
            }
            for f in faults {
                printLine("\(f.reference)\t\(AuditTime.format(f.reportedAt))\t\(f.meter)\t\(f.faultType)\t\(f.client)\t\(f.contact)\t\(f.description)\(f.resolvedAt == nil ? "" : "\t(resolved)")")
            }
        }
    }
}

/// The file a client's secret goes to: new, mode 0600, the secret and a line end.
enum POSSecretFile {
    static func requireNew(_ path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path) exists: the secret goes to a new file") }
    }

    static func write(_ secret: String, to path: String, failure: String) throws {
        do { try OwnerOnlyFile.create(path, contents: Array((secret + "\n").utf8)) } catch {
            throw ValidationError("\(failure) (\(error)): give it a new one with 'stsvend pos client renew-secret'")
        }
    }
}

enum POSClientJSON {
    static func write(_ c: POSClient, _ w: inout JSONLineWriter) {
        w.field("name", c.name)
        w.field("enabled", c.enabled)
        w.field("currency", c.currency)
        w.field("minimum", c.minimum.description)
        w.field("maximum", c.maximum.description)
        w.field("reversals", c.reversals)
        w.field("allowed_sources", c.allowedSources.map(\.description))
    }
}

struct MeterBlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block", abstract: "Block a meter from every sale (supervisor + --totp): counters, the server and POS networks refuse it; logged.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's number.") var meter: String
    @Option(help: "Why (shown to whoever tries to sell it).") var reason: String

    func run() throws {
        try runStation {
            let s = try station.open()
            let pan = try MeterPAN(meterNumber: meter)
            try s.blockMeter(pan, reason: reason, by: try actor.authenticate(s, action: "meter block"))
            printLine("meter \(pan) blocked from sales: \(reason)")
        }
    }
}

struct MeterUnblockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unblock", abstract: "Let a blocked meter be sold again (supervisor + --totp); logged.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's number.") var meter: String

    func run() throws {
        try runStation {
            let s = try station.open()
            let pan = try MeterPAN(meterNumber: meter)
            try s.unblockMeter(pan, by: try actor.authenticate(s, action: "meter unblock"))
            printLine("meter \(pan) may be sold again")
        }
    }
}
