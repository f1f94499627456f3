import ArgumentParser
import Foundation
import STSStation
import STSTokenFormat

/// `stsvend station user …`: the station's people.
struct StationUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Add, disable and unlock users (supervisors).",
        subcommands: [UserAddCommand.self, UserDisableCommand.self, UserUnlockCommand.self])
}

struct UserDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable", abstract: "Disable a user: they can no longer sign in; their past entries stay (supervisors).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The user to disable.") var name: String

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "user disable")
            try s.disableUser(name: name, by: who)
            printLine("user \(name) disabled")
        }
    }
}

/// `stsvend station kek …`: the key-encryption key.
struct StationKEKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kek", abstract: "Look after the key-encryption key that seals the station's secrets.", subcommands: [KEKRotateCommand.self])
}

struct KEKRotateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Seal every secret again under a new key-encryption key (supervisor + --totp).",
        discussion: """
        --new-kek-file is created with a random key (mode 0600) when it does not exist; an existing \
        file (64 hex digits or a passphrase of 12+ characters, mode 0600) is used as it is. All \
        secrets move in one transaction: afterwards the station opens only with the new file \
        (pass it as --kek-file, or move it to DB.kek), and the old file can be destroyed.
        """)
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The new key-encryption key file.") var newKekFile: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "kek rotate")
            let r = try s.rotateKeyEncryptionKey(creatingIfMissing: newKekFile, by: who)
            if output.json {
                printLine(MeterView.json { w in w.field("ok", true); w.field("secrets", r.secrets); w.field("kek_file", newKekFile); w.field("created", r.created) })
            } else {
                printLine("\(r.secrets) secrets sealed under the new key-encryption key \(newKekFile)\(r.created ? " (created)" : ""); the station now opens only with it")
            }
        }
    }
}

/// `stsvend meter tariff`: move a meter to another tariff.
struct MeterTariffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tariff", abstract: "Assign a tariff to a registered meter (supervisor + --totp); logged, applies from the next sale.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The meter's PAN.") var meter: String
    @Option(help: "The tariff (set with 'stsvend tariff set').") var tariff: String

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "meter tariff")
            let pan = try MeterPAN(meterNumber: meter)
            try s.assignTariff(meter: pan, tariff: tariff, by: who)
            printLine("meter \(pan) now on tariff \(tariff)")
        }
    }
}

/// Old spellings scripts use (`station user-add`, `station user-unlock`), kept working but not listed.
struct UserAddAlias: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user-add", abstract: "Same as 'station user add'.", shouldDisplay: false)
    @OptionGroup var command: UserAddCommand
    func run() throws { try command.run() }
}

struct UserUnlockAlias: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user-unlock", abstract: "Same as 'station user unlock'.", shouldDisplay: false)
    @OptionGroup var command: UserUnlockCommand
    func run() throws { try command.run() }
}
