import Foundation
import STSCrypto
import STSMeter
import STSMeterSimulator
import STSTariff
import STSTokenFormat
import STSVending
import Testing

/// Currency meters: money credit drawn at time-of-use prices, warnings, the relay, the table file.
struct CurrencyMeterTests {
    /// 2024-01-01T00:00:00Z, a Monday.
    static let monday: Int64 = 1_704_067_200
    static let hour: Int64 = 3_600
    static let day: Int64 = 86_400

    /// A currency meter on the default table (peak 3.00, standard 1.50, off-peak 0.80 per kWh)
    /// warning at 50.00 and 5.00.
    static func currencyMeter() throws -> (SimulatedMeter, MeterProfile) {
        let p = MeterRuleTests.profile()
        let state = try MeterState(keyParameters: p.keyParameters, expiry: p.expiry, vendingKey: MeterRuleTests.vk)
        var m = SimulatedMeter(state: state, timeOfUse: .defaultTable)
        m.warningCurrency = [5_000_000, 500_000]
        return (m, p)
    }

    @Test("the default table's calendar: weekdays from 1970-01-01 (a Thursday), hours in UTC")
    func calendar() {
        let t = TimeOfUseTable.defaultTable
        #expect(TimeOfUseTable.dayType(at: 0) == .weekday, "Thursday 1970-01-01")
        #expect(TimeOfUseTable.dayType(at: 2 * Self.day) == .weekend, "Saturday 1970-01-03")
        #expect(TimeOfUseTable.dayType(at: -1) == .weekday, "Wednesday 1969-12-31 23:59:59")
        #expect(TimeOfUseTable.hour(at: -1) == 23)
        #expect(t.period(at: Self.monday).name == "off-peak")
        #expect(t.period(at: Self.monday + 7 * Self.hour).name == "peak")
        #expect(t.period(at: Self.monday + 10 * Self.hour - 1).name == "peak")
        #expect(t.period(at: Self.monday + 10 * Self.hour).name == "standard")
        #expect(t.period(at: Self.monday + 5 * Self.day + 8 * Self.hour).name == "standard", "Saturday 08:00")
        #expect(t.period(at: Self.monday + 6 * Self.day + 23 * Self.hour).name == "off-peak", "Sunday 23:00")
        #expect(t.price(at: Self.monday + 12 * Self.hour, tariffRate: 200) == 200_000, "a tariff rate of 200 sets standard to 2.00")
        #expect(t.price(at: Self.monday + 8 * Self.hour, tariffRate: 200) == 300_000, "peak keeps its price")
    }

    @Test("100.00 of credit over 48 h at 1 kW across peak and off-peak, a warning, then exactly zero and the relay open")
    func twoDaysThenEmpty() throws {
        var (m, p) = try Self.currencyMeter()
        #expect(m.relay == .openNoCredit)
        let token = try MeterRuleTests.issuer(p).currencyCredit(.electricityCurrency, units: 10_000_000, tid: TokenIdentifier(field: 1000))
        // 100.00 is not representable: exponent 3 covers 1 818 624 + m × 1 000, and
        // m = ⌈(10 000 000 − 1 818 624) / 1 000⌉ = 8 182, so the token carries 100.00624.
        #expect(token.encodedCurrencyUnits == 10_000_624)
        #expect(m.enter(token.number.digits, at: Self.monday).result == .accept)
        #expect(m.currencyCredit == 10_000_624 && m.relay == .closed)

        let first = m.run(loadWatts: 1_000, seconds: 48 * Self.hour, start: Self.monday)
        // Monday and Tuesday are weekdays. Per weekday: peak 07–10 and 18–20 = 5 h, off-peak
        // 22–06 = 8 h, standard the other 11 h. At 1 kW a day costs
        // 5 h × 3.00 + 11 h × 1.50 + 8 h × 0.80 = 15.00 + 16.50 + 6.40 = 37.90, two days 75.80.
        let peak: Int128 = 2 * 5 * 300_000          // 30.00
        let standard: Int128 = 2 * 11 * 150_000     // 33.00
        let offPeak: Int128 = 2 * 8 * 80_000        // 12.80
        #expect(first.chargedByPeriod == ["peak": peak, "standard": standard, "off-peak": offPeak])
        #expect(first.currencyCharged == 7_580_000)
        // 100.00624 − 75.80 = 24.20624 left.
        #expect(m.currencyCredit == 10_000_624 - 7_580_000)
        #expect(m.currencyCredit == 2_420_624)
        #expect(first.secondsSupplied == 48 * Self.hour && first.tenthsConsumed == 480, "48 kWh drawn")
        #expect(m.electricityTenths == 0 && m.relay == .closed && m.currencyPending == 0)
        // The 50.00 warning: Monday leaves 100.00624 − 37.90 = 62.10624; Tuesday 00–06 off-peak
        // (4.80) and 06–07 standard (1.50) leave 55.80624; then peak takes 0.05 a minute, and
        // 55.80624 − 117 × 0.05 = 49.95624 is the first value ≤ 50.00 (116 minutes leave 50.00624):
        // Tuesday 07:00 + 117 min = 08:57.
        let warnings = first.events.filter { $0.kind == "warning" }
        #expect(warnings.count == 1)
        #expect(warnings.first?.time == Self.monday + Self.day + 8 * Self.hour + 57 * 60)
        #expect(warnings.first?.detail == "low credit: 49.95624 left (threshold 50)")

        let second = m.run(loadWatts: 1_000, seconds: 24 * Self.hour, start: Self.monday + 48 * Self.hour)
        // Wednesday: 00–06 off-peak 4.80 → 19.40624, 06–07 standard 1.50 → 17.90624, 07–10 peak
        // 9.00 → 8.90624, then standard at 0.025 a minute: 356 minutes leave 0.00624, and minute
        // 357 takes the last 0.00624. Supply: 10 h + 357 min; the relay opens at 15:57.
        #expect(m.currencyCredit == 0 && m.relay == .openNoCredit)
        #expect(second.secondsSupplied == 10 * Self.hour + 357 * 60)
        #expect(second.currencyCharged == 2_420_624)
        // The 5.00 warning: 8.90624 − 157 × 0.025 = 4.98124 (156 minutes leave 5.00624), at 12:37.
        let low = second.events.filter { $0.kind == "warning" }
        #expect(low.map(\.time) == [Self.monday + 2 * Self.day + 12 * Self.hour + 37 * 60])
        #expect(low.first?.detail == "low credit: 4.98124 left (threshold 5)")
        #expect(second.events.contains { $0.kind == "relay" && $0.detail == "opened: no credit" && $0.time == Self.monday + 2 * Self.day + 15 * Self.hour + 57 * 60 })
        #expect(m.run(loadWatts: 1_000, seconds: Self.hour, start: Self.monday + 3 * Self.day).secondsSupplied == 0)

        // New credit closes the relay; thresholds stay warned while the credit is below them.
        let more = try MeterRuleTests.issuer(p).currencyCredit(.electricityCurrency, units: 16_000, tid: TokenIdentifier(field: 1002))
        #expect(m.enter(more.number.digits, at: Self.monday + 3 * Self.day).result == .accept)
        #expect(m.currencyCredit == 16_000 && m.relay == .closed && m.warnedCurrency == [5_000_000, 500_000])
    }

    @Test("prices round once: fractions of 10⁻⁵ stay pending across runs; a tariff rate token prices standard")
    func pendingAndTariffRate() throws {
        var (m, p) = try Self.currencyMeter()
        let issuer = try MeterRuleTests.issuer(p)
        _ = m.enter(try issuer.currencyCredit(.electricityCurrency, units: 16_000, tid: TokenIdentifier(field: 1000)).number.digits, at: 0)
        // Off-peak 0.80 = 80 000 per kWh; 1 W for 1 minute is 60 W·s × 80 000 = 4 800 000, one
        // unit charged and 1 200 000 pending; three more such minutes make 4 × 4 800 000 =
        // 19 200 000 = 5 × 3 600 000 + 1 200 000: 5 units charged in all, 1 200 000 pending.
        _ = m.run(loadWatts: 1, seconds: 60, start: Self.monday)
        #expect(m.currencyCredit == 16_000 - 1 && m.currencyPending == 1_200_000)
        _ = m.run(loadWatts: 1, seconds: 180, start: Self.monday + 60)
        #expect(m.currencyCredit == 16_000 - 5 && m.currencyPending == 1_200_000)
        // Set tariff rate 100: standard becomes 1.00 per kWh; 100 W for an hour of standard is
        // 0.1 kWh × 1.00 = 0.10 = 10 000 units (the pending 1 200 000 is a third of a unit more,
        // so it stays pending).
        let rate = try issuer.management(.setTariffRate, value: 100, tid: TokenIdentifier(field: 1002), rnd: 0)
        #expect(m.enter(rate.number.digits, at: 0).result == .accept)
        let run = m.run(loadWatts: 100, seconds: Self.hour, start: Self.monday + 12 * Self.hour)
        #expect(run.chargedByPeriod == ["standard": 10_000] && m.currencyCredit == 16_000 - 5 - 10_000)
        #expect(m.currencyPending == 1_200_000)
    }

    @Test("currency meters round-trip through the state file as version 2; kWh meters stay version 1")
    func stateFile() throws {
        var (m, p) = try Self.currencyMeter()
        _ = m.enter(try MeterRuleTests.issuer(p).currencyCredit(.electricityCurrency, units: 16_000, tid: TokenIdentifier(field: 1000)).number.digits, at: 0)
        _ = m.run(loadWatts: 1, seconds: 60, start: Self.monday)
        m.warnedCurrency = [500_000]
        let path = SimulatorTests.temporaryPath()
        try StateFile.create(m, at: path)
        let loaded = try StateFile.load(path)
        #expect(loaded == m && loaded.timeOfUse == .defaultTable && loaded.currencyPending == 1_200_000)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("\"version\" : 2"))
        let (kwh, _) = try SimulatorTests.fresh()
        let kwhPath = SimulatorTests.temporaryPath()
        try StateFile.create(kwh, at: kwhPath)
        let text = try String(contentsOfFile: kwhPath, encoding: .utf8)
        #expect(text.contains("\"version\" : 1") && !text.contains("time_of_use") && !text.contains("currency_pending"))
        #expect(try StateFile.load(kwhPath).timeOfUse == nil)
    }

    static let sample = """
        sts-tou-table 1
        # prices per kWh
        period peak 3.00
        period standard 1.5
        period off-peak 0.80
        tariff-rate-period standard
        weekday 00-06 off-peak
        weekday 06-07 standard
        weekday 07-10 peak
        weekday 10-18 standard
        weekday 18-20 peak
        weekday 20-22 standard
        weekday 22-24 off-peak
        weekend 00-06 off-peak
        weekend 06-22 standard
        weekend 22-24 off-peak

        """

    @Test("the table file: the sample is the default table, and the canonical text round-trips")
    func tableFile() throws {
        #expect(try TimeOfUseTable(text: Self.sample) == .defaultTable)
        let text = TimeOfUseTable.defaultTable.fileText
        #expect(text.hasPrefix("sts-tou-table 1\nperiod peak 3.00\nperiod standard 1.50\nperiod off-peak 0.80\ntariff-rate-period standard\nweekday 00-06 off-peak\n"))
        #expect(try TimeOfUseTable(text: text) == .defaultTable)
        #expect(TimeOfUseTable.moneyUnits("2.50") == 250_000 && TimeOfUseTable.moneyUnits("0.00001") == 1)
        for bad in ["2.500001", "-1", "+1", "1e2", ".5", "5.", "1234567", "", "1.2.3", " 1"] { #expect(TimeOfUseTable.moneyUnits(bad) == nil, "\(bad)") }
    }

    @Test("the table file: bad hours, unknown and duplicate periods, overlaps, gaps and long input are refused")
    func tableRefusals() {
        func refused(_ replace: String, with: String) -> TimeOfUseTableError? {
            do throws(TimeOfUseTableError) {
                _ = try TimeOfUseTable(text: Self.sample.replacingOccurrences(of: replace, with: with))
                return nil
            } catch {
                return error
            }
        }
        #expect(refused("weekday 22-24 off-peak", with: "weekday 22-25 off-peak") == .badHours(line: 13, "22-25"))
        #expect(refused("weekday 07-10 peak", with: "weekday 10-07 peak") == .badHours(line: 9, "10-07"))
        #expect(refused("weekday 07-10 peak", with: "weekday 7-10 peak") == .badHours(line: 9, "7-10"))
        #expect(refused("weekday 07-10 peak", with: "weekday 07-10 peek") == .unknownPeriod(line: 9, "peek"))
        #expect(refused("period off-peak 0.80", with: "period peak 0.80") == .duplicatePeriod(line: 5, "peak"))
        #expect(refused("weekday 06-07 standard", with: "weekday 05-07 standard") == .duplicateHour(line: 8, .weekday, 5))
        #expect(refused("weekend 06-22 standard", with: "weekend 06-21 standard") == .missingHour(.weekend, 21))
        #expect(refused("period peak 3.00", with: "period peak 3.000001") == .badPrice(line: 3, "3.000001"))
        #expect(refused("period peak 3.00", with: "period Peak 3.00") == .badName(line: 3, "Peak"))
        #expect(refused("period peak 3.00", with: "period  peak 3.00") == .badLine(line: 3, "fields are separated by exactly one space, with none at either end"))
        #expect(refused("sts-tou-table 1", with: "sts-tou-table 2") == .badHeader)
        #expect(refused("# prices", with: "#\tprices") == .notText(line: 2))
        #expect(refused("tariff-rate-period standard", with: "tariff-rate-period night") == .unknownPeriod(line: 6, "night"))
        let long = Self.sample + String(repeating: "# padding padding padding padding\n", count: 500)
        #expect(throws: TimeOfUseTableError.tooLong) { try TimeOfUseTable(text: long) }
        let many = (0...16).map { "period p\($0) 1.00" }.joined(separator: "\n")
        #expect(throws: TimeOfUseTableError.tooManyPeriods(line: 18)) { try TimeOfUseTable(text: "sts-tou-table 1\n" + many) }
        #expect(throws: TimeOfUseTableError.badHeader) { try TimeOfUseTable(fileBytes: []) }
    }
}
