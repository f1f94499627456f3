import Foundation
import STSDLMS
import STSMeter
import STSTokenFormat

/// The COSEM objects of a simulated meter: what each role may read, write and call, and the
/// value of every attribute (encodings in Specs/dlms.md).
extension DLMSMeter {
    /// Standard event log codes for the meter's event kinds (Specs/dlms.md lists them).
    static let eventCodes: [String: UInt8] = [
        "power-failure": 1, "power-restored": 2, "cover-open": 40, "magnetic": 44, "tamper": 45,
        "relay-open": 59, "relay-close": 60, "remote-disconnect": 61, "remote-reconnect": 62,
        "warning": 70, "token": 71, "key-change": 72,
    ]

    static func eventCode(_ e: MeterEvent) -> UInt8 {
        if e.kind == "relay" {
            if e.detail.hasPrefix("remote disconnect") { return 61 }
            if e.detail.hasPrefix("remote reconnect") { return 62 }
            return e.detail.hasPrefix("closed") ? 60 : 59
        }
        if e.kind == "tamper", e.detail.hasPrefix("tamper cleared") { return 46 }
        if e.kind == "card" { return 73 }
        return eventCodes[e.kind] ?? 255
    }

    public func objects(for role: ClientRole) -> [CosemObjectInfo] {
        let m = role == .management
        let r: AccessMode = .read, rw: AccessMode = m ? .readWrite : .read
        func o(_ c: InterfaceClass, _ v: UInt8, _ ln: ObisCode, _ a: [AccessMode], _ methods: Int = 0) -> CosemObjectInfo {
            CosemObjectInfo(classId: c.rawValue, version: v, instance: ln, attributes: a, methods: Array(repeating: m, count: methods))
        }
        return [
            o(.clock, 0, .clock, [r, r, r, r, r, r, r, r, r]),
            o(.data, 0, .invocationCounter, [r, r]),
            o(.register, 0, .activeEnergyImport, [r, r, r]),
            o(.register, 0, .instantaneousPower, [r, r, r]),
            o(.account, 0, .account, [r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, rw, r], 0),
            o(.credit, 0, .credit, [r, r, r, r, rw, r, r, r]),
            // The last token stays with the management client: a refused token may still be enterable.
            o(.tokenGateway, 0, .tokenGateway, [r, m ? r : .none, r, m ? r : .none, r, r], 1),
            o(.data, 0, .eventCode, [r, r]),
            o(.disconnectControl, 0, .disconnectControl, [r, r, r, r], 2),
            o(.profileGeneric, 1, .loadProfile, [r, r, r, r, r, r, r, r]),
            o(.profileGeneric, 1, .eventLog, [r, r, r, r, r, r, r, r]),
        ]
    }

    public func get(_ a: AttributeDescriptor, selection: AccessSelection?, role: ClientRole) -> GetResult {
        lock.withLock { read(a, selection: selection, role: role) }
    }

    func read(_ a: AttributeDescriptor, selection: AccessSelection?, role: ClientRole) -> GetResult {
        guard let info = objects(for: role).first(where: { $0.instance == a.instance }) else { return .failure(DataAccessResult.objectUndefined.rawValue) }
        guard info.classId == a.classId else { return .failure(DataAccessResult.objectClassInconsistent.rawValue) }
        guard a.attribute >= 1, Int(a.attribute) <= info.attributes.count else { return .failure(DataAccessResult.objectUndefined.rawValue) }
        guard info.attributes[Int(a.attribute) - 1] != .none else { return .failure(DataAccessResult.readWriteDenied.rawValue) }
        if a.attribute == 1 { return .data(.octetString(a.instance.bytes)) }
        if selection != nil, info.classId != InterfaceClass.profileGeneric.rawValue || a.attribute != 2 {
            return .failure(DataAccessResult.otherReason.rawValue)
        }
        let t = now()
        switch (a.instance, a.attribute) {
        case (.clock, 2): return .data(.octetString(Self.dateTime(t)))
        case (.clock, 3): return .data(.long(0))
        case (.clock, 4): return .data(.unsigned(0))
        case (.clock, 5), (.clock, 6): return .data(.octetString(Self.notSpecifiedDateTime))
        case (.clock, 7): return .data(.integer(0))
        case (.clock, 8): return .data(.boolean(false))
        case (.clock, 9): return .data(.enumerated(1)) // crystal
        case (.invocationCounter, 2): return .data(.doubleLongUnsigned(lastAcceptedCounter))
        case (.eventCode, 2): return .data(.unsigned(meter.events.last.map(Self.eventCode) ?? 0))
        case (.activeEnergyImport, 2): return .data(.doubleLongUnsigned(UInt32(clamping: Self.energyWh(meter))))
        case (.activeEnergyImport, 3): return .data(.structure([.integer(0), .enumerated(30)])) // Wh
        case (.instantaneousPower, 2): return .data(.doubleLong(Int32(clamping: meter.relay.isClosed ? loadWatts : 0)))
        case (.instantaneousPower, 3): return .data(.structure([.integer(0), .enumerated(27)])) // W
        case (.account, 2): return .data(.structure([.enumerated(2), .enumerated(2)])) // prepayment mode, active
        case (.account, 3): return .data(.unsigned(1))
        case (.account, 4): return .data(.bitString(bytes: [meter.hasCredit ? 0x80 : 0x02], count: 8)) // bit 0 in credit, bit 6 out of credit
        case (.account, 5): return .data(.doubleLong(credit))
        case (.account, 6), (.account, 7), (.account, 8): return .data(.doubleLong(0))
        case (.account, 9): return .data(.array([.octetString(ObisCode.credit.bytes)]))
        case (.account, 10): return .data(.array([]))
        case (.account, 11): return .data(.array([]))
        case (.account, 12): return .data(.array([.structure([.octetString(ObisCode.credit.bytes), .unsigned(100)])]))
        case (.account, 13), (.account, 14): return .data(.octetString(Self.notSpecifiedDateTime))
        case (.account, 15): return .data(currency)
        case (.account, 16): return .data(.doubleLong(lowCreditThreshold))
        case (.account, 17): return .data(.doubleLong(0))
        case (.credit, 2): return .data(.doubleLong(credit))
        case (.credit, 3): return .data(.enumerated(0)) // token credit
        case (.credit, 4): return .data(.unsigned(1))
        case (.credit, 5): return .data(.doubleLong(lowCreditThreshold))
        case (.credit, 6): return .data(.doubleLong(0))
        case (.credit, 7): return .data(.bitString(bytes: [0x00], count: 8))
        case (.credit, 8): return .data(.enumerated(meter.hasCredit ? 3 : 4)) // in use / exhausted
        case (.tokenGateway, 2): return .data(.octetString(Array((document.last_token?.token ?? "").utf8)))
        case (.tokenGateway, 3): return .data(.octetString(document.last_token.map { Self.dateTime($0.time) } ?? Self.notSpecifiedDateTime))
        case (.tokenGateway, 4): return .data(.array(document.last_token.map { [.octetString(Array($0.description.utf8))] } ?? []))
        case (.tokenGateway, 5): return .data(.enumerated(document.last_token?.delivery ?? 0))
        case (.tokenGateway, 6): return .data(.structure([.enumerated(document.last_token?.status ?? 8), .bitString(bytes: [0], count: 8)]))
        case (.disconnectControl, 2): return .data(.boolean(meter.relay.isClosed))
        case (.disconnectControl, 3): return .data(.enumerated(controlState))
        case (.disconnectControl, 4): return .data(.enumerated(1))
        case (.loadProfile, _), (.eventLog, _): return profile(a.instance, a.attribute, selection)
        default: return .failure(DataAccessResult.objectUndefined.rawValue)
        }
    }

    /// 0 disconnected, 1 connected, 2 ready for reconnection (remote reconnect given, no credit).
    var controlState: UInt8 {
        switch meter.relay {
        case .closed: return 1
        case .openRemote: return 0
        case .openNoCredit, .openOverload: return 2
        }
    }

    /// The credit in the account's unit: 0.1 kWh, or 0.01 currency units for a currency meter.
    var credit: Int32 {
        meter.isCurrencyMeter ? Int32(clamping: meter.currencyCredit / 1000) : Int32(clamping: meter.electricityTenths)
    }
    var lowCreditThreshold: Int32 {
        meter.isCurrencyMeter ? Int32(clamping: (meter.warningCurrency.first ?? 0) / 1000) : Int32(clamping: meter.warningTenths.first ?? 0)
    }
    var currency: DataValue {
        meter.isCurrencyMeter ? .structure([.utf8String("currency"), .integer(-2), .enumerated(2)])
            : .structure([.utf8String("kWh"), .integer(-1), .enumerated(1)])
    }

    func profile(_ ln: ObisCode, _ attribute: Int8, _ selection: AccessSelection?) -> GetResult {
        let isLoad = ln == .loadProfile
        let rows: [(Int64, DataValue)] = isLoad
            ? document.load_profile.map { ($0[0], DataValue.structure([.octetString(Self.dateTime($0[0])), .doubleLongUnsigned(UInt32(clamping: $0[1]))])) }
            : meter.events.map { ($0.time, DataValue.structure([.octetString(Self.dateTime($0.time)), .unsigned(Self.eventCode($0))])) }
        let captured: [DataValue] = [
            .structure([.longUnsigned(8), .octetString(ObisCode.clock.bytes), .integer(2), .longUnsigned(0)]),
            isLoad ? .structure([.longUnsigned(3), .octetString(ObisCode.activeEnergyImport.bytes), .integer(2), .longUnsigned(0)])
                : .structure([.longUnsigned(1), .octetString([0, 0, 96, 11, 0, 255]), .integer(2), .longUnsigned(0)]),
        ]
        switch attribute {
        case 2:
            guard let s = selection else { return .data(.array(rows.map(\.1))) }
            guard let p = s.parameters.items else { return .failure(DataAccessResult.typeUnmatched.rawValue) }
            switch s.selector {
            case 1: // range: {restricting object, from date-time, to date-time, selected values}
                guard p.count >= 3, let from = p[1].octets.flatMap(Self.seconds), let to = p[2].octets.flatMap(Self.seconds) else {
                    return .failure(DataAccessResult.typeUnmatched.rawValue)
                }
                return .data(.array(rows.filter { $0.0 >= from && $0.0 <= to }.map(\.1)))
            case 2: // entries: {from_entry, to_entry (0 = last), from_value, to_value}, 1-based
                guard p.count >= 2, let first = p[0].integerValue, let last = p[1].integerValue, first >= 1 else {
                    return .failure(DataAccessResult.typeUnmatched.rawValue)
                }
                let end = last == 0 ? rows.count : min(Int(clamping: last), rows.count)
                let start = Int(clamping: first) - 1
                return .data(.array(start < end ? rows[start..<end].map(\.1) : []))
            default: return .failure(DataAccessResult.otherReason.rawValue)
            }
        case 3: return .data(.array(captured))
        case 4: return .data(.doubleLongUnsigned(isLoad ? 900 : 0))
        case 5: return .data(.enumerated(1)) // fifo
        case 6: return .data(.structure([.longUnsigned(0), .octetString([0, 0, 0, 0, 0, 0]), .integer(0), .longUnsigned(0)]))
        case 7: return .data(.doubleLongUnsigned(UInt32(rows.count)))
        case 8: return .data(.doubleLongUnsigned(UInt32(isLoad ? Self.profileLimit : meter.eventLimit)))
        default: return .failure(DataAccessResult.objectUndefined.rawValue)
        }
    }

    public func set(_ a: AttributeDescriptor, value: DataValue, role: ClientRole) -> UInt8 {
        guard role == .management else { return DataAccessResult.readWriteDenied.rawValue }
        return lock.withLock {
            let writable = (a.instance == .account && a.classId == 111 && a.attribute == 16)
                || (a.instance == .credit && a.classId == 112 && a.attribute == 5)
            guard writable else {
                return objects(for: role).contains { $0.instance == a.instance } ? DataAccessResult.readWriteDenied.rawValue
                    : DataAccessResult.objectUndefined.rawValue
            }
            // The state file takes positive thresholds below 10⁸ kWh.
            guard case .doubleLong(let v) = value, v > 0, v < 1_000_000_000 else { return DataAccessResult.typeUnmatched.rawValue }
            let ok = (try? change { (m: inout SimulatedMeter) -> Void in
                if m.isCurrencyMeter { m.warningCurrency = [Int128(v) * 1000] } else { m.warningTenths = [Int64(v)] }
                m.warned = []; m.warnedCurrency = []
            }) != nil
            return ok ? 0 : DataAccessResult.temporaryFailure.rawValue
        }
    }

    public func action(_ method: MethodDescriptor, parameters: DataValue?, role: ClientRole) -> (result: UInt8, returned: GetResult?) {
        guard role == .management else { return (DataAccessResult.readWriteDenied.rawValue, nil) }
        return lock.withLock {
            switch (method.instance, method.classId, method.method) {
            case (.tokenGateway, 115, 1):
                guard case .octetString(let digits)? = parameters, digits.count == 20, digits.allSatisfy({ (0x30...0x39).contains($0) }),
                      let text = String(validating: digits, as: UTF8.self) else {
                    return (DataAccessResult.typeUnmatched.rawValue, nil)
                }
                return enterToken(text)
            case (.disconnectControl, 70, 1), (.disconnectControl, 70, 2):
                guard parameters == nil || parameters?.integerValue == 0 else { return (DataAccessResult.typeUnmatched.rawValue, nil) }
                let disconnect = method.method == 1
                let t = now()
                let ok = (try? change { (m: inout SimulatedMeter) -> Void in
                    if disconnect {
                        if m.relay != .openRemote { m.relay = .openRemote; m.log(t, "relay", "remote disconnect: opened by the head-end") }
                    } else if m.relay == .openRemote {
                        m.relay = m.hasCredit ? .closed : .openNoCredit
                        m.log(t, "relay", m.relay == .closed ? "remote reconnect: closed" : "remote reconnect: ready, no credit")
                    }
                }) != nil
                return (ok ? 0 : DataAccessResult.temporaryFailure.rawValue, nil)
            default:
                let known = objects(for: role).contains { $0.instance == method.instance }
                return (known ? DataAccessResult.readWriteDenied.rawValue : DataAccessResult.objectUndefined.rawValue, nil)
            }
        }
    }

    /// The token gateway's `enter`: the keypad's decoder, then the status the gateway reports.
    func enterToken(_ text: String) -> (result: UInt8, returned: GetResult?) {
        let t = now()
        guard let outcome = try? change({ m in m.enter(text, at: t) }) else { return (DataAccessResult.temporaryFailure.rawValue, nil) }
        let status: UInt8
        switch outcome.result {
        case .accept, .firstKeyChangeToken, .secondKeyChangeToken, .thirdKeyChangeToken, .fourthKeyChangeToken: status = 3
        case .format, .range: status = 4
        case .crc, .ddtk, .keyType, .manufacturerCode: status = 5
        case .used, .old, .keyExpired: status = 6
        case .overflow, .function, .lockout, .tamper: status = 7
        }
        var d = document
        d.last_token = .init(token: text, time: t, status: status, description: outcome.result.rawValue, delivery: 0)
        // The token is applied and saved already; the gateway's record of it is best effort.
        if (try? DLMSFile.save(d, for: statePath)) != nil { document = d }
        return (0, .data(.structure([.enumerated(status), .visibleString(outcome.result.rawValue)])))
    }

    static func dateTime(_ t: Int64) -> [UInt8] { COSEMTime.dateTime(t) }
    static let notSpecifiedDateTime = COSEMTime.notSpecified
    static func seconds(_ b: [UInt8]) -> Int64? { COSEMTime.seconds(b) }
}
