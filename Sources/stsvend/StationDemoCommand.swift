import ArgumentParser
import Foundation
import STSStation
import STSTariff

/// `stsvend station demo`: a working station in one command.
struct StationDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a demo station on an embedded SQLite file, sell a token, export and verify the log.",
        discussion: """
        Everything goes into --dir (default ./stsvend-demo): station.db, station.db.pub, station.db.kek, \
        the demo supervisor's password and TOTP secret (mode 0600). The demo vending key is a public \
        test key, never a production key. Run it again to sell another token on the same station.
        """)
    @Option(help: "Folder for the demo station.") var dir = "stsvend-demo"
    @Option(help: "Money to sell for.") var money = "100.00"
    @Flag(help: "Then run the station server and its operator console on the demo station (stop with Ctrl-C).") var serve = false
    @Option(help: "With --serve: address to listen on, HOST:PORT (port 0: a free one).") var listen = "127.0.0.1:8080"

    func run() throws {
        try runStation {
            let demo = try DemoStation(folder: dir)
            if demo.created { printLine("created a demo station in \(demo.database) (supervisor password in \(demo.passwordFile))") }
            var stored = try readPassword(demo.passwordFile)
            defer { for i in stored.indices { stored[i] = 0 } }
            let who = try demo.station.authenticate(user: demo.supervisor, password: stored, action: "demo sell")
            let sale = try demo.sell(try Money(money), by: who)
            printReceipt(sale.receipt, json: false)
            let report = sale.verification
            printLine("log: \(sale.entries) entries exported to \(demo.logFile), head \(sale.head); offline verification: \(report.isClean ? "clean" : "\(report.problems.count) problems")")
            guard serve else {
                printLine("next: stsvend sell --db \(demo.database) --user \(demo.supervisor) --password-file \(demo.passwordFile) --meter \(demo.meter) --money 50")
                return
            }
            let folder = dir
            try ServeCommand.serve(demo.station, listen: try ListenAddress(listen), tlsCert: nil, tlsKey: nil, reader: nil) { url in
                printLine("listening on \(url)")
                printLine("console: \(url)/ — log in as 'operator' (password in \(folder)/operator.password) to sell, or as 'supervisor' (\(folder)/supervisor.password, TOTP secret in \(folder)/supervisor.totp) for tariffs, keys and users")
            }
        }
    }
}
