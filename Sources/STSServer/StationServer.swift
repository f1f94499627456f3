import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import STSHeadEnd
import STSNotify
import STSPrepaidUtility
import STSStation

/// The station as a service: the JSON API under `/api/v1` (described by the OpenAPI 3.1 document
/// at `/api/v1/openapi.json`), the operator console under `/`, and `/healthz`, over one
/// ``Station``. Every route parses its input once, calls one station operation, and renders.
public final class StationServer: Sendable {
    /// How the server is set up.
    public struct Configuration: Sendable {
        /// Host (name or address) to listen on.
        public var host: String
        /// Port to listen on (0: a free one, named in the `ready` URL).
        public var port: Int
        /// PEM certificate chain and private key files: HTTPS when both are given.
        public var tlsCertificate: String?, tlsKey: String?
        /// Seconds without a request after which a session ends, and the longest session.
        public var sessionIdle: Int64 = 30 * 60, sessionLifetime: Int64 = 12 * 3600
        /// Failed logins a minute from one address before it must wait (the station's own
        /// throttle counts per user name; this stops one address trying many names).
        public var loginFailuresPerMinute = 30
        /// Writes a card meter's purchase to the card in the server machine's reader (the
        /// command line wires the PC/SC stack in); nil: card sales are refused over HTTP.
        /// Seconds between reading rounds of connected meters (0: no scheduled reading).
        public var readingInterval: Int64 = 900
        /// Seconds a sale waits for its token to reach a connected meter before answering "pending".
        public var deliveryTimeout: Double = 2
        /// Where alerts about connected meters go (webhook, email, SMS); none by default.
        public var notifiers: [any Notifier] = []
        public var cardSale: (@Sendable (Station, SaleRequest, Actor, String?) throws -> CardSaleResult)?
        /// The utility the point-of-sale interface's answers name (nil: the station's name).
        public var prepaidUtility: PUSIUtility?
        /// A fault point for tests: the process kills itself after a point-of-sale purchase
        /// committed, before its answer is sent (`STSVEND_FAULT_KILL_AFTER_POS_COMMIT=1`; debug builds only).
        public var killAfterPOSCommit = false

        /// Listening on `host:port`, plain HTTP.
        public init(host: String = "127.0.0.1", port: Int = 8080) {
            self.host = host
            self.port = port
        }

        /// Whether cookies are marked `Secure` and the scheme is https.
        public var tls: Bool { tlsCertificate != nil && tlsKey != nil }
    }

    let station: Station
    let configuration: Configuration
    let sessions: SessionStore
    let sales: SaleCommitter
    let posPurchases: POSPurchaseCommitter
    let requestLog: RequestLog
    let loginGate: LoginGate
    /// Failed point-of-sale authentications, apart from the staff's logins (a POS network behind
    /// one address must not lock the counter out, nor the counter the POS).
    let posGate: LoginGate
    let posCredentials: POSCredentialCache
    let headEnd: HeadEnd
    let alerts: AlertDispatcher

    /// A server over `station`.
    public init(station: Station, configuration: Configuration, logLines: @escaping @Sendable (String) -> Void = RequestLog.standardError) {
        self.station = station
        self.configuration = configuration
        // The station's clock as it is at each call (tests and benchmarks set their own after this).
        sessions = SessionStore(idle: configuration.sessionIdle, lifetime: configuration.sessionLifetime, now: { [station] in station.now() })
        sales = SaleCommitter(station: station)
        posPurchases = POSPurchaseCommitter(station: station)
        loginGate = LoginGate(failuresPerMinute: configuration.loginFailuresPerMinute, now: { [station] in station.now() })
        posGate = LoginGate(failuresPerMinute: configuration.loginFailuresPerMinute, now: { [station] in station.now() })
        // Real time, not the station clock: a test station's fixed clock must not keep credentials for ever.
        posCredentials = POSCredentialCache(now: { Int64(Date().timeIntervalSince1970) })
        requestLog = RequestLog(write: logLines, sessions: sessions)
        headEnd = HeadEnd(station: station, concurrency: 32, timeout: configuration.deliveryTimeout)
        alerts = AlertDispatcher(station: station, notifiers: configuration.notifiers, log: logLines)
        headEnd.alertChannels = alerts.channels
    }

    /// The router with every route (what the in-process tests drive).
    public func router() -> Router<StationRequestContext> {
        let router = Router(context: StationRequestContext.self)
        router.add(middleware: requestLog)
        router.add(middleware: SecurityHeaders(tls: configuration.tls))
        router.get("/healthz") { _, _ in JSONResponse.object { w in w.field("status", "ok") } }
        addAPIRoutes(to: router)
        addPrepaidUtilityRoutes(to: router)
        addConsoleRoutes(to: router)
        return router
    }

    /// The Hummingbird application; `ready` is called with the bound address once it listens.
    public func application(ready: @escaping @Sendable (String) -> Void = { _ in }) throws -> some ApplicationProtocol {
        let scheme = configuration.tls ? "https" : "http"
        let server: HTTPServerBuilder
        if let cert = configuration.tlsCertificate, let key = configuration.tlsKey {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: tls)
        } else {
            server = .http1()
        }
        var logger = Logger(label: "stsvend.serve")
        logger.logLevel = .warning
        return Application(
            router: router(), server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "stsvend"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let host = channel.localAddress?.ipAddress ?? "127.0.0.1"
                ready("\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)")
            },
            logger: logger)
    }

    /// Runs until SIGTERM or SIGINT (or, with `signals: false`, until the task is cancelled),
    /// then stops accepting connections, lets requests in flight finish (their sales committed
    /// and answered) and returns.
    public func run(signals: Bool = true, ready: @escaping @Sendable (String) -> Void) async throws {
        // Retries of token deliveries and scheduled readings run only while the server does.
        let worker = HeadEndWorker(headEnd: headEnd, readingInterval: configuration.readingInterval)
        let alerts = self.alerts
        worker.everyPass = { alerts.dispatchDue() }
        worker.start()
        defer { worker.stop() }
        try await application(ready: ready).runService(gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [])
    }
}

/// Runs blocking station work (SQLite, scrypt) off the event loops.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try body() }) }
    }
}
