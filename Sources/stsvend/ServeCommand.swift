import ArgumentParser
import Foundation
import STSBatch
import STSServer
import STSStation

/// `stsvend serve`: the station's HTTP API and operator console over its SQLite file.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the station as a server: the JSON API under /api/v1 and the operator console in a browser.",
        discussion: """
        When it is ready it prints exactly one line on standard output, 'listening on http://HOST:PORT' \
        (https with --tls-cert and --tls-key); --listen 127.0.0.1:0 picks a free port. SIGTERM or \
        SIGINT stops accepting connections, lets requests in flight finish (their sales committed and \
        answered) and exits 0. One line per request that changes the station goes to standard error \
        (time, method, path, status, user, remote address; never a body, token or password). \
        The API is described at /api/v1/openapi.json; Specs/server.md documents it.
        """)
    @OptionGroup var station: StationOptions
    @Option(help: "Address to listen on, HOST:PORT (port 0: a free one).") var listen = "127.0.0.1:8080"
    @Option(help: "TLS certificate chain (PEM); with --tls-key the server speaks HTTPS.") var tlsCert: String?
    @Option(help: "TLS private key (PEM, mode 0600).") var tlsKey: String?
    @Option(help: "Card meters: the PC/SC reader on this machine that console and API card sales write to (default: the only reader with a card).")
    var reader: String?

    func validate() throws {
        _ = try ListenAddress(listen)
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("give both --tls-cert and --tls-key, or neither") }
    }

    func run() throws {
        try runStation {
            let s = try station.open()
            try Self.serve(s, listen: try ListenAddress(listen), tlsCert: tlsCert, tlsKey: tlsKey, reader: reader) { url in printLine("listening on \(url)") }
        }
    }

    /// Runs the server until SIGTERM/SIGINT; `ready` gets the URL once it listens.
    static func serve(_ s: Station, listen: ListenAddress, tlsCert: String?, tlsKey: String?, reader: String?,
                      ready: @escaping @Sendable (String) -> Void) throws {
        if let tlsKey { _ = try SecretFile.read(tlsKey, what: "TLS key file") }
        var config = StationServer.Configuration(host: listen.host, port: listen.port)
        config.tlsCertificate = tlsCert
        config.tlsKey = tlsKey
        let defaultReader = reader
        config.cardSale = { station, request, actor, chosen in
            try withStationCard(reader: chosen ?? defaultReader, wait: 10) { try station.sellOnCard(request, by: actor, card: &$0) }
        }
        let server = StationServer(station: s, configuration: config)
        let done = DispatchSemaphore(value: 0)
        let failure = ServeFailure()
        Task {
            do { try await server.run(ready: ready) } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let e = failure.error { throw StationError.store("the server stopped: \(e)") }
    }
}

private final class ServeFailure: @unchecked Sendable { var error: Error? }

/// `--listen HOST:PORT`.
struct ListenAddress {
    var host: String
    var port: Int

    init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:8080 (port 0: a free one)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen needs a host, e.g. 127.0.0.1:\(port)") }
        self.host = host
        self.port = port
    }
}
