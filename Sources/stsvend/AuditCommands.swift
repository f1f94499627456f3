import ArgumentParser
import Crypto
import Foundation
import STSAuditLog
import STSBatch
import STSCrypto
import STSStation
import STSTariff
import STSTokenFormat

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Export the station's signed log and verify a log offline.",
        subcommands: [AuditExportCommand.self, AuditVerifyCommand.self])
}

struct AuditExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Seal the log (export entry + signed checkpoint) and write it as JSON lines (auditors, supervisors).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "Where to write the log (not overwritten until complete); with --all-stations, a folder.") var out: String
    @Flag(help: "A shared PostgreSQL database: write every station's chain to OUT/STATION.jsonl with its OUT/STATION.pub.") var allStations = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            defer { s.close() }
            let who = try actor.authenticate(s, action: "audit export")
            if allStations {
                let all = try s.exportAllLogs(to: out, by: who)
                if output.json {
                    printLine(MeterView.json { w in
                        w.field("folder", out)
                        w.array("stations") { w in
                            for e in all {
                                w.element {
                                    $0.field("station", e.station)
                                    if e.offline { $0.field("offline", true) } else { $0.field("entries", Int(e.entries)); $0.field("head", e.head) }
                                }
                            }
                        }
                    })
                } else {
                    for e in all {
                        if e.offline { printLine("\(e.station): not exported, its offline lane is out (upload it, then export again)") } else {
                            printLine("\(e.station): \(e.entries) entries written to \(out)/\(e.station).jsonl (key \(out)/\(e.station).pub); head \(e.head)")
                        }
                    }
                }
                return
            }
            let (count, head) = try s.exportLog(to: out, by: who)
            if output.json {
                printLine(MeterView.json { w in w.field("entries", Int(count)); w.field("head", head); w.field("file", out) })
            } else {
                printLine("\(count) entries written to \(out); head \(head)")
            }
        }
    }
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an exported log offline: chain, signatures, no TID twice, money sums, and tokens (with --keys).",
        discussion: """
        Exit 0 only when the log is clean; 1 when any problem was found (each printed with its line); 64 on unusable inputs. \
        Given a folder (from 'audit export --all-stations'), every STATION.jsonl is verified against its STATION.pub, and \
        then what only the union shows: no meter got one TID from two stations, and every account's carried credit runs \
        on from station to station. Compare each STATION.pub with the key that station published.
        """)
    @Argument(help: "The exported log (JSON lines), or a folder of STATION.jsonl and STATION.pub files.") var log: String
    @Option(help: "The station's public key file (DB.pub); not with a folder.") var publicKey: String?
    @Option(help: "Vending keys (JSON: name to hex, mode 0600) to decrypt and check every token.") var keys: String?
    @Option(help: "Also require the log's last hash to be this (the head published at export).") var head: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: log, isDirectory: &isFolder), isFolder.boolValue {
            try verifyFolder()
            return
        }
        guard let publicKey else {
            printError("error: give --public-key (the station's DB.pub) to verify a log file")
            throw ExitCode(64)
        }
        // Inputs in the documented order: public key, log, keys. The log is read, not mapped: a
        // file truncated while it is checked must not crash the auditor's tool.
        let key: Curve25519.Signing.PublicKey
        let bytes: [UInt8]
        var vendingKeys: [String: VendingKey]? = nil
        do {
            key = try StationPublicKeyFile.parse(AuditInputFile.text(publicKey))
            bytes = try AuditInputFile.bytes(log)
            if let keys { vendingKeys = try SecretFile.vendingKeys(keys) }
        } catch {
            printError("error: \(error)")
            throw ExitCode(64)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let report = AuditVerifier(publicKey: key, keys: vendingKeys).verify(bytes, head: head)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if output.json {
            var w = JSONLineWriter()
            w.begin()
            w.field("clean", report.isClean)
            w.field("entries", report.entries)
            w.field("checkpoints", report.checkpoints)
            w.field("sales", report.sales)
            w.field("reversals", report.reversals)
            w.field("card_voids", report.cardVoids)
            w.field("tokens", report.tokens)
            w.field("tokens_decrypted", report.tokensDecrypted)
            w.field("paid", Money(cents: report.paidCents).description)
            w.field("refunded", Money(cents: report.refundedCents).description)
            w.field("units_tenths", Int(report.unitsTenths))
            w.field("last_seq", Int(report.lastSeq))
            w.field("head", report.head)
            w.field("problems_omitted", report.problemsOmitted)
            w.array("problems") { w in
                for p in report.problems {
                    w.element {
                        $0.field("line", p.line)
                        if let seq = p.seq { $0.field("seq", Int(seq)) }
                        $0.field("code", p.code)
                        $0.field("message", p.message)
                    }
                }
            }
            w.end()
            FileHandle.standardOutput.write(Data(w.bytes))
        } else {
            for p in report.problems { printLine(p.description) }
            if report.problemsOmitted > 0 { printLine("… and \(report.problemsOmitted) more problems not shown") }
            printLine("\(report.isClean ? "CLEAN" : "NOT CLEAN"): \(report.entries) entries, \(report.checkpoints) checkpoints, \(report.sales) sales, \(report.reversals) reversals, \(report.tokens) tokens (\(report.tokensDecrypted) decrypted), \(report.problemCount) problems; head \(report.head) (\(String(format: "%.0f", Double(report.entries) / max(seconds, 1e-9))) entries/s)")
        }
        if !report.isClean { throw ExitCode(1) }
    }

    /// Every station's chain of a shared store, then their union.
    func verifyFolder() throws {
        var vendingKeys: [String: VendingKey]? = nil
        var chains: [(name: String, key: Curve25519.Signing.PublicKey, bytes: [UInt8])] = []
        do {
            if publicKey != nil { throw ValidationError("a folder's keys are its STATION.pub files: leave out --public-key") }
            let names = try FileManager.default.contentsOfDirectory(atPath: log).filter { $0.hasSuffix(".jsonl") }.sorted()
            guard !names.isEmpty, names.count <= 10_000 else { throw ValidationError("\(log) holds no STATION.jsonl files") }
            for file in names {
                let name = String(file.dropLast(6))
                let key = try StationPublicKeyFile.parse(AuditInputFile.text(log + "/" + name + ".pub"))
                chains.append((name, key, try AuditInputFile.bytes(log + "/" + file)))
            }
            if let keys { vendingKeys = try SecretFile.vendingKeys(keys) }
        } catch {
            printError("error: \(error)")
            throw ExitCode(64)
        }
        var union = ChainUnion()
        var clean = true
        var totals = (entries: 0, sales: 0, tokens: 0, problems: 0)
        var w = JSONLineWriter()
        w.begin()
        w.array("chains") { w in
            for c in chains {
                let report = AuditVerifier(publicKey: c.key, keys: vendingKeys, sharedAccounts: chains.count > 1).verify(c.bytes)
                union.add(station: c.name, log: c.bytes)
                clean = clean && report.isClean
                totals.entries += report.entries
                totals.sales += report.sales
                totals.tokens += report.tokens
                totals.problems += report.problemCount
                if !output.json {
                    for p in report.problems { printLine("\(c.name): \(p.description)") }
                    printLine("\(c.name): \(report.isClean ? "CLEAN" : "NOT CLEAN"): \(report.entries) entries, \(report.checkpoints) checkpoints, \(report.sales) sales, \(report.tokens) tokens, \(report.problemCount) problems; head \(report.head)")
                }
                w.element { w in
                    w.field("station", c.name)
                    w.field("clean", report.isClean)
                    w.field("entries", report.entries)
                    w.field("sales", report.sales)
                    w.field("tokens", report.tokens)
                    w.field("head", report.head)
                    w.array("problems") { w in
                        for p in report.problems {
                            w.element { $0.field("line", p.line); $0.field("code", p.code); $0.field("message", p.message) }
                        }
                    }
                }
            }
        }
        let across = union.problems()
        clean = clean && across.isEmpty
        w.field("clean", clean)
        w.field("stations", chains.count)
        w.field("entries", totals.entries)
        w.field("sales", totals.sales)
        w.field("tokens", totals.tokens)
        w.field("meters", union.meters)
        w.array("union_problems") { w in
            for p in across.prefix(1_000) {
                w.element { $0.field("station", p.station); $0.field("line", p.problem.line); $0.field("code", p.problem.code); $0.field("message", p.problem.message) }
            }
        }
        w.end()
        if output.json {
            FileHandle.standardOutput.write(Data(w.bytes))
        } else {
            for p in across.prefix(1_000) { printLine(p.description) }
            printLine("\(clean ? "CLEAN" : "NOT CLEAN"): \(chains.count) stations, \(totals.entries) entries, \(totals.sales) sales, \(totals.tokens) tokens to \(union.meters) meters; \(totals.problems) problems in the chains, \(across.count) across them")
        }
        if !clean { throw ExitCode(1) }
    }
}

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Key-change campaigns over all meters on a vending key (TID rollover, KRN change).",
        subcommands: [CampaignStartCommand.self, CampaignRunCommand.self, CampaignConfirmCommand.self, CampaignStatusCommand.self])
}

struct CampaignStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "List every meter on --from-key as pending (supervisor + --totp).")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "Campaign name.") var name: String
    @Option(help: "The vending key meters move away from.") var fromKey: String
    @Option(help: "The vending key meters move to.") var toKey: String

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "campaign start")
            let p = try s.startCampaign(name: name, from: fromKey, to: toKey, by: who)
            printLine("campaign \(name): \(p.pending) meters pending")
        }
    }
}

struct CampaignRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Issue key-change sets to pending meters, one committed meter at a time; resumes after interruption.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "Campaign name.") var name: String
    @Option(help: "Stop after this many meters.") var limit: Int = .max
    @Option(help: "Append each issued set as a JSON line here (for delivery to customers).") var out: String?

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "campaign run")
            let p = try s.runCampaign(name: name, by: who, limit: limit, setsFile: out) { pan, _, progress in
                printError("campaign \(name): \(progress.issued + progress.confirmed)/\(progress.total) issued (meter \(pan))")
            }
            printLine("campaign \(name): \(p.pending) pending, \(p.issued) issued, \(p.confirmed) confirmed")
        }
    }
}

struct CampaignConfirmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "confirm", abstract: "Record that a meter accepted its new key.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "Campaign name.") var name: String
    @Option(help: "The meter's PAN.") var meter: String

    func run() throws {
        try runStation {
            let s = try station.open()
            let who = try actor.authenticate(s, action: "campaign confirm")
            try s.confirmCampaign(name: name, meter: try MeterPAN(meterNumber: meter).description, by: who)
            printLine("meter \(meter) confirmed")
        }
    }
}

struct CampaignStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show how far a campaign is.")
    @OptionGroup var station: StationOptions
    @OptionGroup var actor: ActorOptions
    @Option(help: "Campaign name.") var name: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        try runStation {
            let s = try station.open()
            _ = try actor.authenticate(s, action: "campaign status")
            let p = try s.campaignProgress(name: name)
            if output.json {
                printLine(MeterView.json { w in w.field("pending", p.pending); w.field("issued", p.issued); w.field("confirmed", p.confirmed); w.field("total", p.total) })
            } else {
                printLine("campaign \(name): \(p.pending) pending, \(p.issued) issued, \(p.confirmed) confirmed of \(p.total)")
            }
        }
    }
}
