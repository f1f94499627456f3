import ArgumentParser
import Foundation
import STSHeadEnd
import STSMeterSimulator
import STSStation
import STSSupport
import STSTokenFormat

/// Reads a head-end keys file into a station link.
func meterLink(pan: String, address: ListenAddress, keysFile: String) throws -> MeterLink {
    let keys = try DLMSClientKeys.load(keysFile)
    guard let titles = keys.titles, let k = keys.securityKeys else { throw DLMSMeterError.badKeys(keysFile) }
    return MeterLink(pan: pan, host: address.host, port: address.port, serverTitle: titles.server, clientTitle: titles.client,
                     blockCipherKey: k.blockCipherKey, authenticationKey: k.authenticationKey)
}

/// `stsvend meter connect`: registers meters as connected (DLMS/COSEM).
struct MeterConnectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Register a meter (or a whole simulator fleet) as connected: the head-end delivers its tokens and reads it over DLMS/COSEM.",
        discussion: "Supervisor with second factor. The keys are stored sealed under the key-encryption key. With --fleet, meters not yet at the station are registered first under --key and --tariff.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN (18 digits) or meter number.") var pan: String?
    @Option(help: "The meter's DLMS address, HOST:PORT.") var address: String?
    @Option(help: "The head-end keys file (JSON, mode 0600) from 'stsvend sim dlms-keys'.") var keysFile: String?
    @Option(help: "A simulator fleet folder: connect every meter of FOLDER/fleet.json.") var fleet: String?
    @Option(help: "With --fleet: the vending key for meters registered here.") var key: String?
    @Option(help: "With --fleet: the tariff for meters registered here.") var tariff: String?

    func validate() throws {
        guard (fleet == nil) != (pan == nil) else { throw ValidationError("give --pan with --address and --keys-file, or --fleet") }
        if pan != nil, address == nil || keysFile == nil { throw ValidationError("--pan needs --address and --keys-file") }
        if let address { _ = try ListenAddress(address) }
    }

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "meter connect")
            if let pan, let address, let keysFile {
                let p = try MeterPAN(meterNumber: pan).description
                try s.connectMeter(try meterLink(pan: p, address: try ListenAddress(address), keysFile: keysFile), by: who)
                printLine("meter \(p) connected at \(address)")
                return
            }
            guard let fleet else { return }
            let manifest = try FleetManifest.load(fleet)
            var registered = 0
            for (i, e) in manifest.meters.enumerated() {
                if (try? s.meterOverview(try MeterPAN(meterNumber: e.pan), sales: 1)) == nil {
                    guard let key, let tariff else { throw ValidationError("meter \(e.pan) is not at the station: give --key and --tariff to register it") }
                    _ = try s.addMeter(MeterRegistration(pan: try MeterPAN(meterNumber: e.pan), keyName: key, tariff: tariff,
                                                         customer: "Flat \(i + 1)", address: "Block A, flat \(i + 1)"), by: who)
                    registered += 1
                }
                try s.connectMeter(try meterLink(pan: e.pan, address: try ListenAddress("\(manifest.host):\(e.port)"), keysFile: fleet + "/" + e.keys), by: who)
            }
            printLine("\(manifest.meters.count) meters connected (\(registered) registered first)")
        }
    }
}

/// `stsvend meter read`: one reading round over every connected meter.
struct MeterReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read", abstract: "Read every connected meter once (registers, new load-profile captures, events) and store the readings.")
    @OptionGroup var station: StationOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            let start = Date()
            let outcomes = try HeadEnd(station: s).readAll()
            let failed = outcomes.filter { $0.error != nil }
            let seconds = Date().timeIntervalSince(start)
            if output.json {
                var w = JSONLineWriter()
                w.begin()
                w.field("meters", outcomes.count)
                w.field("failed", failed.count)
                w.field("seconds", String(format: "%.3f", seconds))
                w.close()
                printLine(String(decoding: w.bytes, as: UTF8.self))
            } else {
                printLine("read \(outcomes.count - failed.count)/\(outcomes.count) meters in \(String(format: "%.2f", seconds)) s")
                for f in failed.prefix(20) { printError("meter \(f.pan): \(f.error ?? "")") }
            }
            if !failed.isEmpty { throw ExitCode(6) }
        }
    }
}

/// `stsvend meter supply`: remote disconnect / reconnect.
struct MeterSupplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supply", abstract: "Open (disconnect) or close (reconnect) a connected meter's relay from the head-end (supervisor, logged).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN (18 digits) or meter number.") var pan: String
    @Flag(help: "Disconnect the supply.") var disconnect = false
    @Flag(help: "Reconnect the supply.") var reconnect = false
    @Option(help: "Why (kept in the log).") var reason = ""

    func validate() throws { guard disconnect != reconnect else { throw ValidationError("give --disconnect or --reconnect") } }

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "meter supply")
            let p = try MeterPAN(meterNumber: pan).description
            try HeadEnd(station: s).switchSupply(pan: p, connect: reconnect, reason: reason, by: who)
            printLine("meter \(p): supply \(reconnect ? "reconnected" : "disconnected")")
        }
    }
}

/// `stsvend meter deliver`: delivers due tokens to connected meters now.
struct MeterDeliverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver", abstract: "Deliver the due tokens of sales to connected meters now; list the dead letters with --dead.")
    @OptionGroup var station: StationOptions
    @Flag(help: "List deliveries that gave up (the dead-letter list) instead.") var dead = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            if dead {
                for d in try s.deliveries(state: "dead") {
                    printLine("sale \(d.saleID) meter \(d.pan): \(d.attempts) attempts, last error: \(d.lastError)")
                }
                return
            }
            let attempts = HeadEnd(station: s).deliverDue()
            for a in attempts {
                let now = try? s.delivery(sale: a.saleID)
                let outcome: String
                if let r = a.results { outcome = (a.accepted ? "delivered, " : "refused by the meter: ") + r.joined(separator: " ") }
                else if now?.state == "dead" { outcome = "not delivered (\(a.error ?? "")), gave up: see --dead" }
                else { outcome = "not delivered (\(a.error ?? "")), will retry" }
                printLine("sale \(a.saleID) meter \(a.pan): " + outcome)
            }
            if attempts.isEmpty { printLine("nothing to deliver") }
        }
    }
}

/// `stsvend meter alerts`: where a connected meter's alerts go, and its low-credit threshold.
struct MeterAlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Set the resident's email and phone for a connected meter's alerts and its low-credit threshold (supervisor).",
        discussion: "Contact details are personal data: they are kept only while set (empty values remove them) and logs show them masked.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN (18 digits) or meter number.") var pan: String
    @Option(help: "The resident's email address (empty: none).") var email = ""
    @Option(help: "The resident's phone number, digits and + (empty: none).") var phone = ""
    @Option(name: .customLong("low-credit-kwh"), help: "Alert when the meter's credit falls to this many kWh.") var lowCreditKWh: String?

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "meter alerts")
            let p = try MeterPAN(meterNumber: pan).description
            var tenths: Int64?
            if let t = lowCreditKWh {
                guard let v = try? DecimalQuantity.units(t, scale: 1), v >= 0, v <= 1_000_000 else { throw ValidationError("--low-credit-kwh takes 0 to 100000 kWh") }
                tenths = Int64(v)
            }
            try s.setAlertContact(pan: p, email: email, phone: phone, lowCreditTenths: tenths, by: who)
            printLine("meter \(p): alerts to \(email.isEmpty ? "no email" : ContactMask.email(email)), \(phone.isEmpty ? "no phone" : ContactMask.phone(phone))"
                      + (lowCreditKWh.map { "; low credit at \($0) kWh" } ?? ""))
        }
    }
}
