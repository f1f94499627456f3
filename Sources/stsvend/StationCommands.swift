import ArgumentParser
import Foundation
import STSBatch
import STSStation
import STSTariff
import STSTokenFormat

/// `stsvend station …`: create and look after a vending station.
struct StationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "station",
        abstract: "Create a vending station (SQLite file, signing key, first supervisor) and manage its users.",
        subcommands: [StationInitCommand.self, StationAddCommand.self, StationMigrateCommand.self, StationOfflineCommand.self, StationUserCommand.self, StationKEKCommand.self, StationDemoCommand.self, StationBenchCommand.self, StationHTTPBenchCommand.self,
                      UserAddAlias.self, UserUnlockAlias.self]
    )
}

struct StationInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the station: DB, DB.pub (Ed25519 public key for auditors), DB.kek (unless --kek-file exists) and the first supervisor.",
        discussion: """
        With --db postgres://USER@HOST:PORT/DBNAME this creates a utility's shared database and its first station \
        (--name, default 'station'): the schema, NAME.pub, DBNAME.kek (unless --kek-file exists) and the first supervisor. \
        The database itself must exist (createdb) and be empty of stations; add more stations with 'stsvend station add'.
        """)

    @Option(help: "The station database to create: an SQLite file, or a PostgreSQL URL (postgres://USER@HOST:PORT/DBNAME).") var db: String
    @Option(help: "PostgreSQL: file holding the database password (mode 0600); else PGPASSWORD or ~/.pgpass.") var dbPasswordFile: String?
    @Option(help: "Where to write the station's public key (default: DB.pub, or NAME.pub for PostgreSQL).") var publicKeyOut: String?
    @Option(help: "Name of the first supervisor.") var admin: String
    @Option(help: "File holding the supervisor's password (mode 0600).") var passwordFile: String?
    @Option(help: "Where to write the supervisor's TOTP secret (base32, mode 0600).") var totpSecretOut: String
    @Option(help: "Key-encryption key file: used if it exists, else created with a random key (default DB.kek).") var kekFile: String?
    @Option(help: "The station's name.") var name = "station"
    @Flag(help: "A test station: its clock may be set with STSVEND_NOW (scripted tests). Recorded in the log; never for real sales.")
    var testClock = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            var password = try readPassword(passwordFile, prompt: "New supervisor password: ")
            defer { for i in password.indices { password[i] = 0 } }
            let clock = try ClockOverride.value()
            if clock != nil, !testClock { throw StationError.clockOverrideRefused }
            let station = try Station.create(path: db, name: name, admin: admin, password: password, kekPath: kekFile,
                                             now: clock ?? Int64(Date().timeIntervalSince1970), testClock: testClock, totpSecretOut: totpSecretOut,
                                             databasePasswordFile: dbPasswordFile, publicKeyOut: publicKeyOut)
            defer { station.close() }
            let pub = publicKeyOut ?? Station.publicKeyPath(database: db, name: name)
            if output.json {
                printLine(MeterView.json { w in
                    w.field("station_id", station.stationID); w.field("name", station.name); w.field("public_key_file", pub); w.field("admin", admin)
                    w.field("kek_file", kekFile ?? Station.defaultKEKPath(for: db))
                })
            } else {
                printLine("station \(station.name) (\(station.stationID)) created in \(station.path)")
                printLine("public key for auditors: \(pub); TOTP secret of \(admin): \(totpSecretOut)")
            }
        }
    }
}

struct StationAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a station to a shared PostgreSQL database (supervisor + --totp): its own signing key and log chain; NAME.pub for auditors.",
        discussion: """
        The new station's Ed25519 key is sealed under the database's key-encryption key (the same --kek-file every \
        station of the database uses); its public half is written to NAME.pub (or --public-key-out). Run it with \
        'stsvend serve --db URL --station NAME'. The acting station (--station, default the first) logs the addition.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The new station's name (letters, digits, '-', '_', '.').") var name: String
    @Option(help: "Where to write the new station's public key (default: NAME.pub).") var publicKeyOut: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            defer { s.close() }
            let who = try actor.authenticate(s, action: "station add")
            let pub = publicKeyOut ?? name + ".pub"
            let id = try s.addStation(name: name, publicKeyOut: pub, by: who)
            if output.json {
                printLine(MeterView.json { w in w.field("station_id", id); w.field("name", name); w.field("public_key_file", pub) })
            } else {
                printLine("station \(name) (\(id)) added to \(s.path); public key for auditors: \(pub)")
            }
        }
    }
}

struct StationMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move an SQLite station into an empty PostgreSQL database (keys stay sealed, the log chain stays byte for byte).",
        discussion: """
        Every row is copied in one PostgreSQL transaction from a snapshot of the file; the station keeps its name, id, \
        signing key and key-encryption key (use the same --kek-file afterwards). The SQLite file is not changed: after \
        the move, sell only from the PostgreSQL database. Exit 6 when either database cannot be used.
        """)
    @Option(help: "The SQLite station file to move.") var from: String
    @Option(help: "The PostgreSQL database to move it into: postgres://USER@HOST:PORT/DBNAME (created with createdb, empty).") var to: String
    @Option(help: "Key-encryption key file of the station (default: FROM.kek).") var kekFile: String?
    @Option(help: "File holding the PostgreSQL password (mode 0600); else PGPASSWORD or ~/.pgpass.") var dbPasswordFile: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            guard PostgresLocation.isURL(to) else { throw ValidationError("--to takes a PostgreSQL URL: postgres://USER@HOST:PORT/DBNAME") }
            let summary = try Station.migrateStore(from: from, kekPath: kekFile, to: to, passwordFile: dbPasswordFile)
            if output.json {
                printLine(MeterView.json { w in
                    w.field("station", summary.stationName); w.field("station_id", summary.stationID); w.field("log_entries", summary.logEntries)
                    w.object("rows") { w in for (t, n) in summary.rows { w.field(t, n) } }
                })
            } else {
                let rows = summary.rows.filter { $0.count > 0 }.map { "\($0.table) \($0.count)" }.joined(separator: ", ")
                printLine("station \(summary.stationName) (\(summary.stationID)) moved to \(to): \(rows)")
                printLine("the log chain (\(summary.logEntries) entries) moved unchanged; sell only from the PostgreSQL database from now on")
            }
        }
    }
}

struct UserUnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Lift a user's login lock after too many failed logins (supervisors).",
        discussion: "After \(LoginThrottle.threshold) failed logins in a row a name is refused for \(LoginThrottle.firstLockSeconds) s, doubling with each further failure up to \(LoginThrottle.maximumLockSeconds) s; a successful login or this command clears it.")

    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The user to unlock.") var name: String

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "user-unlock")
            try s.unlockUser(name: name, by: who)
            printLine("user \(name) unlocked")
        }
    }
}

struct UserAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add an operator, supervisor or auditor (supervisors).")

    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The new user's name.") var name: String
    @Option(help: "operator, supervisor or auditor.") var role: String
    @Option(help: "File holding the new user's password (mode 0600).") var newPasswordFile: String
    @Option(help: "Where to write the new user's TOTP secret (base32, mode 0600).") var totpSecretOut: String

    func run() throws {
        try runStation {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be operator, supervisor or auditor") }
            let s = try station.open()
            let who = try actor.authenticate(s, action: "user-add")
            var password = try readPassword(newPasswordFile)
            defer { for i in password.indices { password[i] = 0 } }
            try s.addUser(name: name, role: role, password: password, by: who, totpSecretOut: totpSecretOut)
            printLine("user \(name) (\(role)) added")
        }
    }
}

/// `stsvend key …`: vending keys at the station.
struct StationKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Import vending keys and change meters to new keys.",
                                                     subcommands: [KeyImportCommand.self, KeyChangeMeterCommand.self, KeyListCommand.self, HSMBenchCommand.self])
}

struct KeyImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a vending key, or with --card-issuer a card issuer key, from a hex file (supervisor + --totp); stored encrypted, never shown again.",
        discussion: "A vending key needs --dkga, --ea, --base-date, --sgc, --krn, --kt and --ti. A card issuer key (--card-issuer, AES-128, 32 hex digits) needs none of them: the station issues and sells cards with the issuer key imported last.")

    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "Name sales and meters use for the key.") var name: String
    @Option(help: "Hex key file (mode 0600).") var file: String
    @Flag(name: .customLong("card-issuer"), help: "The key is a card issuer master key (AES-128) for card meters.") var cardIssuer = false
    @Option(name: .customLong("issuer-id"), help: "With --card-issuer: the utility/issuer number written on cards.") var issuerID: UInt32 = 1
    @Option(help: "Key derivation algorithm: 2 or 4.") var dkga: Int?
    @Option(help: "Encryption algorithm: 7, 9 or 11.") var ea: Int?
    @Option(help: "Base date: 1993, 2014 or 2035.") var baseDate: Int?
    @Option(help: "Supply group code (6 digits).") var sgc: String?
    @Option(help: "Key revision number, 1–15 (1–9 with DKGA04; Specs/tokens.md).") var krn: Int?
    @Option(help: "Key type (0–3).") var kt: Int?
    @Option(help: "Tariff index (0–99).") var ti: Int?
    @Option(help: "Key expiry number (0–255; 255 never expires).") var ken = 255

    func validate() throws {
        let attributes: [Any?] = [dkga, ea, baseDate, sgc, krn, kt, ti]
        if cardIssuer {
            guard attributes.allSatisfy({ $0 == nil }) else { throw ValidationError("a card issuer key takes no vending-key attributes (--dkga, --ea, --base-date, --sgc, --krn, --kt, --ti)") }
        } else {
            guard attributes.allSatisfy({ $0 != nil }) else { throw ValidationError("a vending key needs --dkga, --ea, --base-date, --sgc, --krn, --kt and --ti") }
        }
    }

    func run() throws {
        try runStation {
            let s = try station.open()
            if cardIssuer {
                let who = try actor.authenticate(s, action: "key import")
                var bytes = try SecretFile.hexKey(file)
                defer { for i in bytes.indices { bytes[i] = 0 } }
                try s.importCardIssuerKey(name: name, bytes: bytes, issuerID: issuerID, by: who)
                printLine("card issuer key \(name) imported (AES-\(bytes.count * 8), issuer \(issuerID))")
                return
            }
            guard let dkga, let ea, let baseDate, let sgc, let krn, let kt, let ti else { return }
            let attributes = VendingKeyAttributes(
                derivation: try KeyDerivationAlgorithm(code: dkga), encryption: try EncryptionAlgorithm(code: ea),
                baseDate: try BaseDate(year: baseDate), supplyGroup: try SupplyGroupCode(sgc), revision: try KeyRevisionNumber(krn),
                keyType: try KeyType(kt), tariffIndex: try TariffIndex(ti), expiry: try KeyExpiryNumber(ken))
            let who = try actor.authenticate(s, action: "key import")
            var bytes = try SecretFile.hexKey(file)
            defer { for i in bytes.indices { bytes[i] = 0 } }
            if let warning = try s.importKey(name: name, bytes: bytes, attributes: attributes, by: who) { printError("warning: \(warning)") }
            printLine("vending key \(name) imported (\(bytes.count * 8)-bit, DKGA0\(dkga), EA\(ea < 10 ? "0" : "")\(ea), base date \(baseDate))")
        }
    }
}

struct KeyListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List vending keys, their attributes and expiry (no key bytes).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            _ = try actor.authenticate(s, action: "key list")
            for k in try s.keys() {
                let a = k.attributes
                printLine("\(k.name)\tSGC \(a.supplyGroup) TI \(a.tariffIndex) KRN \(a.revision) KT \(a.keyType.rawValue) DKGA\(a.derivation) EA\(a.encryption) base \(a.baseDate) KEN \(a.expiry.value) issues tokens until \(k.expires)")
                if let warning = k.warning { printLine("\tWARNING: \(warning)") }
            }
        }
    }
}

struct KeyChangeMeterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change", abstract: "Issue the key-change set moving one meter to another vending key (supervisor + --totp).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN.") var meter: String
    @Option(help: "The vending key to move to.") var toKey: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "key change")
            let r = try s.changeKey(meter: try MeterPAN(meterNumber: meter), to: toKey, by: who)
            printReceipt(r, json: output.json)
        }
    }
}

/// `stsvend tariff set`.
struct TariffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tariff", abstract: "Set tariffs (supervisor + --totp).",
                                                     subcommands: [TariffSetCommand.self])
}

struct TariffSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Create or replace a tariff: flat or block prices per kWh, free basic electricity, VAT, channel fees.",
        discussion: """
        Prices are VAT exclusive, per kWh, up to 4 decimals. Blocks apply to the month's cumulative \
        purchases: --block 50=1.20 --block 350=1.50 --block rest=2.10 prices the first 50 kWh at 1.20, \
        up to 350 kWh at 1.50, the rest at 2.10.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "Tariff name.") var name: String
    @Option(help: "One price per kWh for all energy.") var flat: String?
    @Option(help: "A block: UPTO_KWH=PRICE, or rest=PRICE for the last (repeat, ascending).") var block: [String] = []
    @Option(help: "Free basic electricity per month, kWh.") var fbe: String = "0"
    @Option(help: "VAT percent (e.g. 15).") var vat: String = "0"
    @Option(help: "A fee per sale through a channel: CHANNEL=AMOUNT (repeat).") var channelFee: [String] = []
    @Option(help: "Time-of-use periods (the 'sts-tou-table 1' file of 'sim init --tou-file'): the rates of currency meters on this tariff, and the periods reports group sales into.")
    var touFile: String?

    func run() throws {
        try runStation {
            var blocks: [TariffBlock] = []
            if let flat { blocks.append(TariffBlock(upToTenths: nil, price: try EnergyPrice(flat))) }
            for b in block {
                guard b.contains("=") else { throw ValidationError("--block takes UPTO_KWH=PRICE or rest=PRICE") }
                blocks.append(try TariffBlock(text: b))
            }
            guard flat == nil || block.isEmpty else { throw ValidationError("give --flat or --block, not both") }
            var fees: [String: Money] = [:]
            for f in channelFee {
                let parts = f.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--channel-fee takes CHANNEL=AMOUNT") }
                fees[parts[0]] = try Money(parts[1])
            }
            let tariff = try Tariff(name: name, blocks: blocks, freeBasicTenthsPerMonth: try EnergyPrice(fbe).perKWhTenThousandths / 1_000,
                                    vatBasisPoints: try Money(vat).cents, channelFees: fees,
                                    timeOfUse: try touFile.map { try TimeOfUseTable.load(path: $0) })
            let s = try station.open()
            let who = try actor.authenticate(s, action: "tariff set")
            let version = try s.setTariff(tariff, by: who)
            printLine("tariff \(name) version \(version) set")
        }
    }
}

/// `stsvend meter add` (registered under the meter command).
struct MeterAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Register a meter at a station and open its first account.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN (18 digits) or meter number.") var pan: String
    @Option(help: "The vending key the meter's decoder key is derived under.") var key: String
    @Option(help: "The meter's tariff.") var tariff: String
    @Option(help: "The customer (created if new).") var customer = "unnamed"
    @Option(help: "Where the meter is installed (stays with the meter across tenants; counter staff find it by this).") var address = ""
    @Flag(help: "A card meter (credit goes on an IC card).") var card = false
    @Flag(help: "A currency meter: tokens carry money (STS electricity-currency credit) that the meter draws down by its time-of-use rates.")
    var currency = false
    @Option(help: "Arrears paid before any energy.") var arrears = "0"
    @Option(help: "Debt recovered a percentage of each payment.") var debt = "0"
    @Option(help: "Percent of each payment recovered against the debt.") var debtRecovery = "0"
    @Option(help: "Fixed charge per month.") var fixedMonthly = "0"

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "meter add")
            let id = try s.addMeter(MeterRegistration(
                pan: try MeterPAN(meterNumber: pan), keyName: key, tariff: tariff, customer: customer, kind: card ? .card : .keypad,
                credit: currency ? .currency : .energy,
                arrears: try Money(arrears), debt: try Money(debt), debtRecoveryBasisPoints: try Money(debtRecovery).cents,
                fixedMonthly: try Money(fixedMonthly), address: address), by: who)
            printLine("meter \(try MeterPAN(meterNumber: pan)) registered, account \(id)")
        }
    }
}
