import ArgumentParser
import Foundation
import STSBatch
import STSNotify
import STSPrepaidUtility
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
    @OptionGroup var connected: ConnectedMeterOptions
    @OptionGroup var utility: PrepaidUtilityOptions

    func validate() throws {
        _ = try ListenAddress(listen)
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("give both --tls-cert and --tls-key, or neither") }
        try connected.check()
    }

    func run() throws {
        try runStation {
            let s = try station.open()
            try Self.serve(s, listen: try ListenAddress(listen), tlsCert: tlsCert, tlsKey: tlsKey, reader: reader, connected: connected,
                           utility: utility) { url in printLine("listening on \(url)") }
        }
    }

    /// Runs the server until SIGTERM/SIGINT; `ready` gets the URL once it listens.
    static func serve(_ s: Station, listen: ListenAddress, tlsCert: String?, tlsKey: String?, reader: String?,
                      connected: ConnectedMeterOptions = ConnectedMeterOptions(), utility: PrepaidUtilityOptions = PrepaidUtilityOptions(),
                      ready: @escaping @Sendable (String) -> Void) throws {
        if let tlsKey { _ = try SecretFile.read(tlsKey, what: "TLS key file") }
        var config = StationServer.Configuration(host: listen.host, port: listen.port)
        config.tlsCertificate = tlsCert
        config.tlsKey = tlsKey
        config.readingInterval = connected.readingInterval
        config.notifiers = try connected.notifiers()
        if let name = utility.utilityName {
            config.prepaidUtility = PUSIUtility(name: name, address: utility.utilityAddress ?? "", vatRegistration: utility.utilityVatNumber ?? "",
                                                message: utility.utilityMessage ?? "")
        }
        config.killAfterPOSCommit = ProcessInfo.processInfo.environment["STSVEND_FAULT_KILL_AFTER_POS_COMMIT"] == "1"
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

/// What the point-of-sale interface's answers say about the utility (printed on slips).
struct PrepaidUtilityOptions: ParsableArguments {
    @Option(help: "Point-of-sale slips: the utility's name (default: the station's name).") var utilityName: String?
    @Option(help: "Point-of-sale slips: the utility's address.") var utilityAddress: String?
    @Option(help: "Point-of-sale slips: the utility's VAT registration number.") var utilityVatNumber: String?
    @Option(help: "Point-of-sale slips: a message printed on every slip.") var utilityMessage: String?
}

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

/// The server's options for connected meters: scheduled reading and where alerts go.
struct ConnectedMeterOptions: ParsableArguments {
    @Option(help: "Seconds between reading rounds of connected meters (0: none).") var readingInterval: Int64 = 900
    @Option(help: "Alerts: POST each as signed JSON to this URL (Specs/dlms.md, 'Alerts').") var webhookUrl: String?
    @Option(help: "Alerts: the webhook's HMAC secret (file, mode 0600).") var webhookSecretFile: String?
    @Option(help: "Alerts: email residents through this SMTP relay, HOST:PORT.") var smtp: String?
    @Option(help: "Alerts: the sender address of alert emails.") var mailFrom = "alerts@stsvend.invalid"
    @Option(help: "Alerts: SMS gateway URL template ({phone} and {message} are filled in).") var smsUrl: String?
    @Option(help: "Alerts: SMS gateway JSON body template (POST; without it the URL is fetched with GET).") var smsBody: String?

    init() {}

    func check() throws {
        guard (0...86_400).contains(readingInterval) else { throw ValidationError("--reading-interval takes 0 to 86400 seconds") }
        if (webhookUrl == nil) != (webhookSecretFile == nil) { throw ValidationError("give --webhook-url with --webhook-secret-file") }
        if let smtp { _ = try ListenAddress(smtp) }
        if let u = webhookUrl, !(u.hasPrefix("http://") || u.hasPrefix("https://")) { throw ValidationError("--webhook-url is an http(s) URL") }
        if let u = smsUrl, !(u.hasPrefix("http://") || u.hasPrefix("https://")) { throw ValidationError("--sms-url is an http(s) URL") }
    }

    func notifiers() throws -> [any Notifier] {
        var out: [any Notifier] = []
        if let url = webhookUrl, let file = webhookSecretFile {
            var secret = try SecretFile.read(file, what: "webhook secret file")
            while let last = secret.last, last == 10 || last == 13 { secret.removeLast() }
            guard secret.count >= 16 else { throw ValidationError("the webhook secret needs at least 16 bytes") }
            out.append(WebhookNotifier(url: url, secret: secret))
        }
        if let smtp {
            let a = try ListenAddress(smtp)
            out.append(SMTPNotifier(host: a.host, port: a.port, from: mailFrom))
        }
        if let smsUrl { out.append(SMSGatewayNotifier(urlTemplate: smsUrl, bodyTemplate: smsBody)) }
        return out
    }
}
