import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's, plus the client's address (login
/// throttling per source and the request log need it).
public struct StationRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connected client, when the channel knows it.
    public let remoteAddress: SocketAddress?

    /// A context for a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as the throttle and the log name it ("127.0.0.1"; "local" when unknown).
    var source: String { remoteAddress?.ipAddress ?? "local" }
}
