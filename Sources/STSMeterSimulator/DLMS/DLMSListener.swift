import NIOCore
import NIOPosix
import STSDLMS

/// Serves simulated meters over the IEC 62056-4-7 TCP wrapper: one listening socket per
/// meter, one ``ServerSession`` per connection, on a shared event-loop group.
public enum DLMSListener {
    /// The meter's logical device (server wPort).
    public static let logicalDevice: UInt16 = 1

    /// Starts listening for `meter` on `host:port` (port 0 picks one) and returns the channel;
    /// its `localAddress` has the port.
    public static func start(_ meter: DLMSMeter, host: String, port: Int, group: EventLoopGroup) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(120)))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WrapperFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(SessionHandler(session: ServerSession(device: meter, security: meter)))
                }
            }
            .bind(host: host, port: port).get()
    }
}

/// Cuts the byte stream into wrapper frames; a bad header closes the connection.
struct WrapperFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = WrapperFrame
    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: WrapperFrame.headerSize) else { return .needMoreData }
        let length = try WrapperFrame.announcedLength(header: header[...])
        guard buffer.readableBytes >= WrapperFrame.headerSize + length, var bytes = buffer.readBytes(length: WrapperFrame.headerSize + length) else {
            return .needMoreData
        }
        guard let frame = try WrapperFrame.take(from: &bytes) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Runs one connection's session: frames in, frames out.
final class SessionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WrapperFrame
    typealias OutboundOut = ByteBuffer
    var session: ServerSession

    init(session: ServerSession) { self.session = session }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.destination == DLMSListener.logicalDevice, let answer = session.handle(frame.apdu, fromClientSAP: frame.source) else {
            context.close(promise: nil)
            return
        }
        // Answers stay within the negotiated size; anything else is a bug, never a crash.
        guard answer.count <= WrapperFrame.maximumAPDU else { context.close(promise: nil); return }
        let out = WrapperFrame(source: DLMSListener.logicalDevice, destination: frame.source, apdu: answer).encoded
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: out)), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}
