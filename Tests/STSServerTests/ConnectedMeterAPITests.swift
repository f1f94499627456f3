import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import STSDLMS
import STSHeadEnd
import STSMeterSimulator
import STSServer
import STSStation
import STSSupport
import Testing

/// A connected meter behind the API: the simulator's DLMS endpoint in process, the station's
/// head-end talking to it over loopback TCP (the real wrapper, HLS-GMAC, suite 0).
enum ConnectedMeterAPI {
    /// A simulated meter for `pan` (its key derived as the harness's vending key would) served over DLMS.
    final class Endpoint: @unchecked Sendable {
        let meter: DLMSMeter
        let keys: DLMSClientKeys
        let channel: Channel
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var port: Int { channel.localAddress?.port ?? 0 }

        init(pan: String, folder: String, keyHex: String, krn: Int) async throws {
            let path = folder + "/\(pan).json"
            try StateFile.create(SimulatedMeter(state: try ServerHarness.meter(pan, keyHex: keyHex, krn: krn).state), at: path)
            keys = try DLMSMeter.setUp(statePath: path)
            meter = try DLMSMeter(statePath: path)
            channel = try await DLMSListener.start(meter, host: "127.0.0.1", port: 0, group: group)
        }
        func stop() async { try? await channel.close(); try? await group.shutdownGracefully() }
    }

    /// Every connected-meter route, as `everyRoute` needs them called.
    static func exercise(_ h: ServerHarness, _ client: any TestClientProtocol, olly: String, sue: String) async throws {
        let pan = ServerHarness.pan2
        // The meter already moved to key k2 (KRN 2) earlier in everyRoute.
        let e = try await Endpoint(pan: pan, folder: h.folder, keyHex: "FEDCBA9876543210", krn: 2)
        let body = "{\"host\": \"127.0.0.1\", \"port\": \"\(e.port)\", \"server_system_title\": \"\(e.keys.server_system_title)\", "
            + "\"client_system_title\": \"\(e.keys.client_system_title)\", \"authentication_key\": \"\(e.keys.authentication_key)\", "
            + "\"block_cipher_key\": \"\(e.keys.block_cipher_key)\""
        let byOperator = try await h.call(client, .put, "/api/v1/meters/\(pan)/connection", body + ", \"totp\": \"123456\"}", token: olly)
        #expect(byOperator.status == 403)
        let connected = try await h.call(client, .put, "/api/v1/meters/\(pan)/connection", body + ", \"totp\": \"\(h.nextCode())\"}", token: sue)
        #expect(connected.status == 201, "\(String(decoding: connected.bytes, as: UTF8.self))")

        // A sale to the connected meter: the token reaches the meter's gateway before the answer.
        let sold = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(pan)\", \"money\": \"30.00\"}", token: olly, headers: [("Idempotency-Key", "connected-1")])
        #expect(sold.status == 201)
        #expect(sold["delivery"]?["state"]?.string == "delivered" && sold["delivery"]?["result"]?.string == "accept", "\(String(decoding: sold.bytes, as: UTF8.self))")
        #expect(e.meter.snapshot.electricityTenths > 0, "credit on the meter")
        // The same Idempotency-Key again: the same sale, the same (already delivered) token, no second delivery.
        let again = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(pan)\", \"money\": \"30.00\"}", token: olly, headers: [("Idempotency-Key", "connected-1")])
        #expect(again.status == 200 && again["delivery"]?["attempts"]?.integer == 1)
        #expect(e.meter.snapshot.state.tidMemory.tids.count == 1, "the meter saw one token")

        // Remote supply switching: supervisors with a code only; it happens on the meter.
        let opSwitch = try await h.call(client, .post, "/api/v1/meters/\(pan)/supply", "{\"relay\": \"open\", \"reason\": \"test\", \"totp\": \"123456\"}", token: olly)
        #expect(opSwitch.status == 403)
        let open = try await h.call(client, .post, "/api/v1/meters/\(pan)/supply", "{\"relay\": \"open\", \"reason\": \"meter swap\", \"totp\": \"\(h.nextCode())\"}", token: sue)
        #expect(open.status == 200 && open["relay"]?.string == "open")
        #expect(e.meter.snapshot.relay == .openRemote)
        let closed = try await h.call(client, .post, "/api/v1/meters/\(pan)/supply", "{\"relay\": \"closed\", \"reason\": \"done\", \"totp\": \"\(h.nextCode())\"}", token: sue)
        #expect(closed.status == 200)
        #expect(e.meter.snapshot.relay == .closed)

        // Readings: the delivery read the registers on its way out; a round adds the profile and events.
        let afterSale = try await h.call(client, .get, "/api/v1/meters/\(pan)/readings", token: olly)
        #expect(afterSale["connected"] == .bool(true) && afterSale["latest"]?["credit_tenths_kwh"]?.integer ?? 0 > 0, "\(String(decoding: afterSale.bytes, as: UTF8.self))")
        let round = try HeadEnd(station: h.station).readAll(now: h.clock)
        #expect(round.count == 1 && round.first?.error == nil, "\(round.first?.error ?? "")")
        let read = try await h.call(client, .get, "/api/v1/meters/\(pan)/readings?days=31", token: olly)
        #expect(read["latest"]?["relay_closed"] == .bool(true))
        #expect(read["latest"]?["credit_tenths_kwh"]?.integer == Int64(e.meter.snapshot.electricityTenths))
        let events = (read["events"]?.array ?? []).compactMap { $0["event"]?.string }
        #expect(events.contains("remote disconnect") && events.contains("remote reconnect"), "the meter's event log, as read: \(events)")
        let badDays = try await h.call(client, .get, "/api/v1/meters/\(pan)/readings?days=99", token: olly)
        #expect(badDays.status == 400)

        // Deliveries: the one made, none dead; retrying one that is not dead is 404.
        let delivered = try await h.call(client, .get, "/api/v1/deliveries?state=delivered", token: olly)
        #expect(delivered["deliveries"]?.array?.count == 1)
        let dead = try await h.call(client, .get, "/api/v1/deliveries", token: olly)
        #expect(dead["deliveries"]?.array?.isEmpty == true)
        let retry = try await h.call(client, .post, "/api/v1/deliveries/\(sold["sale"]?.integer ?? 0)/retry", token: sue)
        #expect(retry.status == 404)

        // The meter goes away: the switch is 503 meter-unreachable; a sale is still sold and answers "pending".
        await e.stop()
        let unreachable = try await h.call(client, .post, "/api/v1/meters/\(pan)/supply", "{\"relay\": \"open\", \"reason\": \"x\", \"totp\": \"\(h.nextCode())\"}", token: sue)
        #expect(unreachable.status == 503 && unreachable.code == "meter-unreachable")
        let pending = try await h.call(client, .post, "/api/v1/sales", "{\"meter\": \"\(pan)\", \"money\": \"5.00\"}", token: olly, headers: [("Idempotency-Key", "connected-2")])
        #expect(pending.status == 201 && pending["delivery"]?["state"]?.string == "pending")
    }
}
