import STSCrypto
import STSMeter
import STSTariff
import STSTokenFormat

/// The JSON shape of a meter state file (format `sts-meter-state`; see Specs/meter.md): version
/// 1 for kWh meters, version 2 for currency meters, which add a time-of-use table, money
/// warning thresholds and the money pending. Version 2 keeps older readers, which would treat
/// a currency meter as a kWh meter, from loading one.
///
/// Numbers that can exceed 2^53 (credit registers, money) are written as decimal strings so no
/// JSON reader rounds them.
struct StateDocument: Codable {
    struct Key: Codable {
        var decoder_key: String
        var krn: Int
        var kt: Int
        var ken: Int
        var sgc: String
        var ti: Int
        var base_date: Int
        var ea: Int
    }
    struct Registers: Codable {
        var credit: [String: String]
        var max_power_limit_w: UInt64?
        var phase_unbalance_limit_w: UInt64?
        var tariff_rate: UInt16?
        var water_meter_factor: UInt16?
        var tamper: Bool
    }
    struct Pending: Codable {
        var started_at: Int64
        var blocks: [String: String]
    }
    struct Policy: Codable {
        var tid_memory_depth: Int
        var key_change_window_s: Int64
        var lockout_threshold: Int
        var lockout_base_s: Int64
        var lockout_max_s: Int64
        var max_unit_credit: String
        var max_currency_credit: String
    }

    var format = "sts-meter-state"
    var version = 1
    var pan: String
    var key: Key
    var tid_memory: [UInt32]
    var registers: Registers
    var pending_key_change: Pending?
    var lockout: LockoutState
    var policy: Policy
    var relay: RelayState
    var watt_seconds_pending: Int64
    var warning_tenths_kwh: [Int64]
    var warned: [Int64]
    var events: [MeterEvent]
    var card_sequences: [String: UInt32]?
    var consumed_tenths_kwh: UInt64?
    var time_of_use: TimeOfUseTable.Stored?
    var warning_currency: [String]?
    var warned_currency: [String]?
    var currency_pending: Int64?

    init(_ m: SimulatedMeter) {
        let s = m.state
        pan = s.pan.description
        key = Key(decoder_key: s.key.decoderKey.revealBytes().map { Hex.encode(UInt64($0), digits: 2) }.joined(),
                  krn: Int(s.key.revision), kt: Int(s.key.keyType.rawValue), ken: Int(s.key.expiry.value),
                  sgc: s.key.supplyGroup.description, ti: Int(s.key.tariffIndex), base_date: s.key.baseDate.year,
                  ea: s.key.encryption.rawValue)
        tid_memory = s.tidMemory.tids
        var credit: [String: String] = [:]
        for k in CreditKind.allCases { credit[k.description] = String(s.registers[k]) }
        registers = Registers(credit: credit, max_power_limit_w: s.registers.maximumPowerLimit,
                              phase_unbalance_limit_w: s.registers.phaseUnbalanceLimit, tariff_rate: s.registers.tariffRate,
                              water_meter_factor: s.registers.waterMeterFactor, tamper: s.registers.tamper)
        pending_key_change = s.pendingKeyChange.map { p in
            Pending(started_at: p.startedAt, blocks: Dictionary(uniqueKeysWithValues: p.blocks.map { (String($0.key), Hex.encode($0.value)) }))
        }
        lockout = s.lockout
        let p = s.policy
        policy = Policy(tid_memory_depth: p.tidMemoryDepth, key_change_window_s: p.keyChangeWindowSeconds,
                        lockout_threshold: p.lockout.threshold, lockout_base_s: p.lockout.baseSeconds,
                        lockout_max_s: p.lockout.maximumSeconds, max_unit_credit: String(p.maximumUnitCredit),
                        max_currency_credit: String(p.maximumCurrencyCredit))
        relay = m.relay
        watt_seconds_pending = m.wattSecondsPending
        warning_tenths_kwh = m.warningTenths
        warned = m.warned
        events = m.events
        card_sequences = m.cardSequences
        consumed_tenths_kwh = m.consumedTenths
        // Only currency meters carry the currency fields, so kWh meters' files stay version 1.
        if let table = m.timeOfUse {
            version = 2
            time_of_use = table.stored
            warning_currency = m.warningCurrency.map { String($0) }
            warned_currency = m.warnedCurrency.map { String($0) }
            currency_pending = m.currencyPending
        }
    }

    func meter() throws -> SimulatedMeter {
        guard format == "sts-meter-state", version == 1 || version == 2 else {
            throw StateFileError.corrupt("not a version 1 or 2 sts-meter-state document")
        }
        func bad(_ what: String) -> StateFileError { .corrupt("meter state: \(what)") }
        guard (version == 2) == (time_of_use != nil),
              version == 2 || (warning_currency == nil && warned_currency == nil && currency_pending == nil)
        else { throw bad("currency meter fields belong to version 2 documents, which need a time-of-use table") }
        guard let pan = try? MeterPAN(pan) else { throw bad("invalid meter PAN") }
        guard let dk = try? DecoderKey(hex: key.decoder_key) else { throw bad("invalid decoder key") }
        guard (0...3).contains(key.kt), let kt = KeyType(rawValue: UInt8(key.kt)), let ken = try? KeyExpiryNumber(key.ken),
              let sgc = try? SupplyGroupCode(key.sgc), let bd = try? BaseDate(year: key.base_date),
              let ea = try? EncryptionAlgorithm(code: key.ea), (0...99).contains(key.ti), (1...15).contains(key.krn),
              dk.bitCount == ea.keyBits
        else { throw bad("invalid key attributes") }
        var mp = MeterPolicy()
        let year: Int64 = 31_536_000
        guard (1...10_000).contains(policy.tid_memory_depth), (1...year).contains(policy.key_change_window_s),
              (1...1_000).contains(policy.lockout_threshold), (1...year).contains(policy.lockout_base_s),
              (policy.lockout_base_s...year).contains(policy.lockout_max_s),
              let maxUnit = Int128(policy.max_unit_credit), let maxMoney = Int128(policy.max_currency_credit), maxUnit > 0, maxMoney > 0,
              maxUnit <= MeterPolicy.largestCreditMaximum, maxMoney <= MeterPolicy.largestCreditMaximum
        else { throw bad("invalid policy") }
        guard tid_memory.allSatisfy({ $0 <= TokenIdentifier.maximum }) else { throw bad("TID above 24 bits") }
        guard (0...LockoutState.maximumWrongEntries).contains(lockout.wrongEntries), (0...year).contains(lockout.lastSeconds),
              (0...(MeterClock.range.upperBound + year)).contains(lockout.lockedUntil)
        else { throw bad("invalid lockout counters") }
        guard pending_key_change.map({ MeterClock.range.contains($0.started_at) }) ?? true else { throw bad("invalid pending key change time") }
        guard (consumed_tenths_kwh ?? 0) <= MeterClock.maximumConsumedTenths, warned.allSatisfy({ (1..<1_000_000_000).contains($0) }) else {
            throw bad("invalid consumption values")
        }
        let limits = [registers.max_power_limit_w, registers.phase_unbalance_limit_w].compactMap { $0 }
        guard limits.allSatisfy({ $0 <= TransferAmount.maximumUnits }) else { throw bad("power limit above the encodable maximum") }
        guard (0..<360_000).contains(watt_seconds_pending), warning_tenths_kwh.allSatisfy({ (1..<1_000_000_000).contains($0) }) else {
            throw bad("invalid consumption values")
        }
        var table: TimeOfUseTable?
        if let stored = time_of_use {
            do { table = try TimeOfUseTable(stored: stored) } catch { throw bad("invalid time-of-use table (\(error))") }
        }
        func money(_ list: [String]?) -> [Int128]? {
            guard let list else { return [] }
            guard list.count <= 16 else { return nil }
            var values: [Int128] = []
            for text in list {
                guard (1...31).contains(text.utf8.count), text.utf8.allSatisfy({ (48...57).contains($0) }),
                      let v = Int128(text), v >= 1, v <= maxMoney
                else { return nil }
                values.append(v)
            }
            return values
        }
        guard let warningMoney = money(warning_currency), let warnedMoney = money(warned_currency),
              (0..<SimulatedMeter.currencyPendingLimit).contains(currency_pending ?? 0)
        else { throw bad("invalid currency consumption values") }
        mp.tidMemoryDepth = policy.tid_memory_depth
        mp.keyChangeWindowSeconds = policy.key_change_window_s
        mp.lockout = LockoutPolicy(threshold: policy.lockout_threshold, baseSeconds: policy.lockout_base_s, maximumSeconds: policy.lockout_max_s)
        mp.maximumUnitCredit = maxUnit
        mp.maximumCurrencyCredit = maxMoney
        let installed = InstalledKey(decoderKey: dk, revision: UInt8(key.krn), keyType: kt, expiry: ken, supplyGroup: sgc,
                                     tariffIndex: UInt8(key.ti), baseDate: bd, encryption: ea)
        var state = MeterState(pan: pan, key: installed, policy: mp, tidMemory: TIDMemory(depth: mp.tidMemoryDepth, tids: tid_memory))
        for k in CreditKind.allCases {
            guard let text = registers.credit[k.description], let v = Int128(text),
                  v >= 0, v <= (k.isCurrency ? maxMoney : maxUnit)
            else { throw bad("missing or out-of-range credit register \(k)") }
            state.registers[k] = v
        }
        state.registers.maximumPowerLimit = registers.max_power_limit_w
        state.registers.phaseUnbalanceLimit = registers.phase_unbalance_limit_w
        state.registers.tariffRate = registers.tariff_rate
        state.registers.waterMeterFactor = registers.water_meter_factor
        state.registers.tamper = registers.tamper
        if let p = pending_key_change {
            var blocks: [UInt8: UInt64] = [:]
            for (k, v) in p.blocks {
                guard let sub = UInt8(k), let block = UInt64(v, radix: 16) else { throw bad("invalid pending key change") }
                blocks[sub] = block
            }
            state.pendingKeyChange = PendingKeyChange(startedAt: p.started_at, blocks: blocks)
        }
        state.lockout = lockout
        var m = SimulatedMeter(state: state, timeOfUse: table)
        m.relay = relay
        m.wattSecondsPending = watt_seconds_pending
        m.warningTenths = warning_tenths_kwh
        m.warned = warned
        m.events = events
        m.cardSequences = card_sequences ?? [:]
        m.consumedTenths = consumed_tenths_kwh ?? 0
        if table != nil {
            m.warningCurrency = warningMoney
            m.warnedCurrency = warnedMoney
            m.currencyPending = currency_pending ?? 0
        }
        return m
    }
}
