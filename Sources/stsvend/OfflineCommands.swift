import ArgumentParser
import Foundation
import STSStation

/// `stsvend station offline …`: a station that sells some meters from a local store while the central database may be unreachable.
struct StationOfflineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offline",
        abstract: "Offline lanes: sell some meters from a local SQLite store while the central PostgreSQL database may be unreachable, then upload.",
        discussion: """
        'prepare' (at the central database, supervisor + --totp) holds the meters for the station's lane (no other \
        station sells them, gives them a TID or changes their accounts), reserves sale numbers, ends the station's \
        central chain with an offline_out entry and writes the lane's local store (LOCAL and LOCAL.kek, 0600). Sell \
        from it with the usual commands (stsvend sell --db LOCAL, stsvend serve --db LOCAL). 'upload' sends the lane's \
        chain to the central database, which verifies it under the station's public key and takes it exactly once (an \
        upload repeated is a no-op); with --return (supervisor + --totp) the lane ends and its meters are sold \
        centrally again. Give a lane a station of its own ('stsvend station add'): while it is out, that station \
        records nothing centrally. See Specs/station.md §14.9.
        """,
        subcommands: [StationOfflinePrepareCommand.self, StationOfflineUploadCommand.self])
}

struct StationOfflinePrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Hand meters to the station's offline lane and write its local store (supervisor + --totp, at the central database).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "The lane's local SQLite store to create (its key-encryption key is copied to LOCAL.kek).") var local: String
    @Option(name: .customLong("meter"), help: "A meter (PAN) the lane sells; repeat for each. Keypad meters only.") var meters: [String] = []
    @Option(help: "Sale numbers to reserve for the lane (each sale uses one).") var saleNumbers: Int = 10_000
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            defer { s.close() }
            let who = try actor.authenticate(s, action: "station offline prepare")
            let kek = station.kekFile ?? Station.defaultKEKPath(for: station.db)
            let p = try s.prepareOfflineLane(localPath: local, meters: meters, saleNumbers: saleNumbers, kekPath: kek, by: who)
            if output.json {
                printLine(MeterView.json { w in
                    w.field("station", p.station); w.field("local", p.localPath); w.field("meters", p.meters)
                    w.field("sale_numbers", p.saleNumbers); w.field("fork_seq", Int(p.forkSeq))
                })
            } else {
                printLine("offline lane of station \(p.station) written to \(p.localPath): \(p.meters.count) meters held, \(p.saleNumbers) sale numbers reserved; its chain goes on there after entry \(p.forkSeq)")
            }
        }
    }
}

struct StationOfflineUploadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload an offline lane's chain to the central database (again: a no-op); --return ends the lane (supervisor + --totp).",
        discussion: "Exit 5 with offline-chain-refused when the central database does not take the chain (nothing is stored); 6 when it cannot be reached (try again).")
    @Option(help: "The lane's local store.") var db: String
    @Option(help: "Key-encryption key file of the local store (default: DB.kek).") var kekFile: String?
    @Option(help: "The central database: postgres://USER@HOST:PORT/DBNAME.") var central: String
    @Option(help: "Key-encryption key file of the central database (default: DBNAME.kek).") var centralKekFile: String?
    @Option(help: "File holding the PostgreSQL password (mode 0600); else PGPASSWORD or ~/.pgpass.") var dbPasswordFile: String?
    @OptionGroup var actor: ActorOptions
    @Flag(name: .customLong("return"), help: "End the lane after this upload: its meters are sold centrally again and the local store sells no more.") var returnLane = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let lane = try StationOptions.open(db: db, kekFile: kekFile)
            defer { lane.close() }
            let who = try actor.authenticate(lane, action: "station offline upload")
            let hub = try StationOptions.open(db: central, kekFile: centralKekFile, station: lane.name, dbPasswordFile: dbPasswordFile)
            defer { hub.close() }
            let u = try lane.uploadOfflineLane(to: hub, returning: returnLane, by: who)
            if output.json {
                printLine(MeterView.json { w in
                    w.field("station", u.station); w.field("entries", u.entries); w.field("sales", u.sales)
                    w.field("head", u.head); w.field("returned", u.returned)
                })
            } else {
                let what = u.entries == 0 ? "nothing new (the central database has this chain already)" : "\(u.entries) entries and \(u.sales) sales taken"
                printLine("offline lane of station \(u.station): \(what); head \(u.head)\(u.returned ? "; the lane is returned" : "")")
            }
        }
    }
}
