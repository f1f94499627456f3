import Foundation
import STSCrypto
import STSMeter
import STSMeterSimulator
import STSTokenFormat
import STSVending
import Testing

struct SimulatorTests {
    static func fresh() throws -> (SimulatedMeter, MeterProfile) {
        let p = MeterRuleTests.profile()
        let state = try MeterState(keyParameters: p.keyParameters, expiry: p.expiry, vendingKey: MeterRuleTests.vk)
        return (SimulatedMeter(state: state), p)
    }

    static func temporaryPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sts-sim-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("meter.state").path
    }

    @Test("state files round-trip exactly, with mode 0600, and never overwrite on create")
    func roundTrip() throws {
        var (m, p) = try Self.fresh()
        _ = m.enter(try MeterRuleTests.credit(p, tid: 1000, units: 123), at: 1_800_000_000)
        m.decoder.state.registers[.gasCurrency] = 5
        m.decoder.state.registers.maximumPowerLimit = 4000
        let set = try MeterRuleTests.issuer(p).keyChange(to: p, newVendingKey: MeterRuleTests.vk, rollover: false)
        _ = m.enter(set[0].number.digits, at: 1_800_000_001)
        let path = Self.temporaryPath()
        try StateFile.create(m, at: path)
        #expect(try StateFile.load(path) == m)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: StateFileError.exists(path)) { try StateFile.create(m, at: path) }
    }

    @Test("corrupted, truncated, foreign-readable and missing state files are refused, never reset")
    func refusals() throws {
        let (m, _) = try Self.fresh()
        let path = Self.temporaryPath()
        try StateFile.save(m, to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func expectRefused(_ data: Data, _ code: String) throws {
            try data.write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            #expect {
                try StateFile.load(path)
            } throws: { ($0 as? StateFileError)?.code == code }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == data, "the file is left as it was")
        }
        var flipped = good
        flipped[flipped.count / 2] ^= 0x01
        try expectRefused(flipped, "corrupt-state")
        try expectRefused(good.prefix(good.count / 2), "corrupt-state")
        try expectRefused(good.dropLast(1), "corrupt-state")
        try expectRefused(Data(), "corrupt-state")
        // A well-formed checksum over an edited body is still caught by the checksum.
        var text = String(decoding: good, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"electricity\" : \"0\"", with: "\"electricity\" : \"999\"")
        try expectRefused(Data(text.utf8), "corrupt-state")
        try good.write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect { try StateFile.load(path) } throws: { ($0 as? StateFileError)?.code == "state-permissions" }
        #expect { try StateFile.load(path + ".none") } throws: { ($0 as? StateFileError)?.code == "no-state" }
    }

    @Test("consumption draws credit down, warns, opens the relay at zero and closes it on credit")
    func consumption() throws {
        var (m, p) = try Self.fresh()
        #expect(m.relay == .openNoCredit)
        _ = m.enter(try MeterRuleTests.credit(p, tid: 1000, units: 20), at: 0)
        #expect(m.relay == .closed)
        let first = m.run(loadWatts: 1000, seconds: 3600, start: 0)
        #expect(first.tenthsConsumed == 10 && m.electricityTenths == 10)
        #expect(first.events.filter { $0.kind == "warning" }.count == 2, "one warning at 2.0 kWh (≤ 10 and 5), one at 1.0")
        let second = m.run(loadWatts: 1000, seconds: 7200, start: 3600)
        #expect(second.secondsSupplied == 3600 && m.electricityTenths == 0 && m.relay == .openNoCredit)
        #expect(second.events.contains { $0.kind == "relay" && $0.detail.hasPrefix("opened") })
        let none = m.run(loadWatts: 1000, seconds: 3600, start: 10_800)
        #expect(none.secondsSupplied == 0)
        _ = m.enter(try MeterRuleTests.credit(p, tid: 1002, units: 5), at: 20_000)
        #expect(m.relay == .closed)
        // Partial units carry over: 100 W for 30 min is 0.05 kWh, twice makes 0.1 kWh.
        var (n, q) = try Self.fresh()
        _ = n.enter(try MeterRuleTests.credit(q, tid: 1000, units: 10), at: 0)
        _ = n.run(loadWatts: 100, seconds: 1800, start: 0)
        #expect(n.electricityTenths == 10)
        _ = n.run(loadWatts: 100, seconds: 1800, start: 1800)
        #expect(n.electricityTenths == 9)
        _ = q
    }

    @Test("the maximum power limit trips the relay; a smaller load reconnects")
    func overload() throws {
        var (m, p) = try Self.fresh()
        _ = m.enter(try MeterRuleTests.credit(p, tid: 1000, units: 100), at: 0)
        let mpl = try MeterRuleTests.issuer(p).management(.setMaximumPowerLimit, value: 500, tid: TokenIdentifier(field: 1002), rnd: 0)
        #expect(m.enter(mpl.number.digits, at: 0).result == .accept)
        let tripped = m.run(loadWatts: 1000, seconds: 3600, start: 0)
        #expect(tripped.tenthsConsumed == 0 && m.relay == .openOverload)
        let ok = m.run(loadWatts: 400, seconds: 3600, start: 3600)
        #expect(m.relay == .closed && ok.tenthsConsumed == 4)
    }

    @Test("a tamper flag blocks credit until a clear-tamper token")
    func tamper() throws {
        var (m, p) = try Self.fresh()
        m.detectTamper(at: 0)
        #expect(m.enter(try MeterRuleTests.credit(p, tid: 1000), at: 0).result == .tamper)
        #expect(m.electricityTenths == 0)
        let clear = try MeterRuleTests.issuer(p).management(.clearTamperCondition, value: 0, tid: TokenIdentifier(field: 1002), rnd: 0)
        #expect(m.enter(clear.number.digits, at: 1).result == .accept)
        #expect(m.events.contains { $0.kind == "tamper" && $0.detail == "tamper cleared" })
        #expect(m.enter(try MeterRuleTests.credit(p, tid: 1004), at: 2).result == .accept)
    }

    @Test("the event log keeps the newest events only")
    func eventLimit() throws {
        var (m, _) = try Self.fresh()
        m.eventLimit = 5
        for i in 0..<12 { _ = m.enter("0000", at: Int64(i) * 10_000) }
        #expect(m.events.count == 5 && m.events.last?.time == 110_000)
    }
}
