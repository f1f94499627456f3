import STSDLMS

/// A snapshot of a connected meter's registers, read in one GET-with-list.
public struct MeterReading: Sendable, Equatable {
    /// Lifetime active energy import, Wh.
    public var energyWh: Int64
    /// Instantaneous power, W.
    public var powerW: Int64
    /// Remaining credit in the account's unit (0.1 kWh for kWh meters).
    public var credit: Int64
    /// Whether the relay is closed.
    public var relayClosed: Bool
    /// Disconnect control state: 0 disconnected, 1 connected, 2 ready for reconnection.
    public var controlState: Int64
}

/// What the token gateway answered.
public struct GatewayResult: Sendable, Equatable {
    /// IC 115 status code: 3 token execution OK; 4–7 failures.
    public var status: Int64
    /// The meter's result (`accept`, `used`, `old`, `crc`, …: Specs/meter.md).
    public var result: String
    /// Whether the meter applied the token.
    public var accepted: Bool { status == 3 }
}

extension MeterAssociation {
    /// Registers, credit and relay in one round trip.
    public func reading() throws(DLMSError) -> MeterReading {
        let r = try get([AttributeDescriptor(3, .activeEnergyImport, 2), AttributeDescriptor(3, .instantaneousPower, 2),
                         AttributeDescriptor(112, .credit, 2), AttributeDescriptor(70, .disconnectControl, 2),
                         AttributeDescriptor(70, .disconnectControl, 3)])
        // Registers are double-long(-unsigned) (Specs/dlms.md): anything wider is refused, so
        // the station's sums over stored readings cannot overflow.
        func int(_ g: GetResult) throws(DLMSError) -> Int64 {
            switch g {
            case .data(let v):
                guard let i = v.integerValue, (Int64(Int32.min)...Int64(UInt32.max)).contains(i) else { throw .malformed("a register that is not a 32-bit number") }
                return i
            case .failure(let c): throw .accessResult(c)
            }
        }
        guard case .data(.boolean(let closed)) = r[3] else { throw .malformed("output_state") }
        return MeterReading(energyWh: try int(r[0]), powerW: try int(r[1]), credit: try int(r[2]), relayClosed: closed, controlState: try int(r[4]))
    }

    /// Enters a 20-digit token through the token gateway (IC 115 method 1).
    public func enter(token: String) throws(DLMSError) -> GatewayResult {
        let digits = Array(token.utf8)
        guard digits.count == 20, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { throw .malformed("a token is 20 digits") }
        guard case .structure(let s)? = try action(MethodDescriptor(115, .tokenGateway, 1), .octetString(digits)), s.count == 2,
              let status = s[0].integerValue, case .visibleString(let text) = s[1] else { throw .malformed("token gateway answer") }
        return GatewayResult(status: status, result: text)
    }

    /// Opens (false) or closes (true) the supply relay (IC 70 methods 1 and 2).
    public func switchSupply(connect: Bool) throws(DLMSError) {
        try action(MethodDescriptor(70, .disconnectControl, connect ? 2 : 1), .integer(0))
    }

    /// Load-profile captures from `since` (seconds since 1970), as (time, cumulative Wh).
    public func loadProfile(since: Int64, until: Int64) throws(DLMSError) -> [(Int64, Int64)] {
        let restricting = DataValue.structure([.longUnsigned(8), .octetString(ObisCode.clock.bytes), .integer(2), .longUnsigned(0)])
        let range = DataValue.structure([restricting, .octetString(COSEMTime.dateTime(since)), .octetString(COSEMTime.dateTime(until)), .array([])])
        guard case .array(let rows) = try get(AttributeDescriptor(7, .loadProfile, 2), selection: AccessSelection(selector: 1, parameters: range)) else {
            throw .malformed("load profile")
        }
        var out: [(Int64, Int64)] = []
        for row in rows {
            guard let f = row.items, f.count == 2, let b = f[0].octets, let t = COSEMTime.seconds(b), let wh = f[1].integerValue,
                  (0...Int64(UInt32.max)).contains(wh) else {
                throw .malformed("load profile entry")
            }
            // Only what was asked for: a meter's stray capture never moves the station's "since".
            if (since...until).contains(t) { out.append((t, wh)) }
        }
        return out
    }

    /// The event log, as (time, event code).
    public func events() throws(DLMSError) -> [(Int64, Int64)] {
        guard case .array(let rows) = try get(AttributeDescriptor(7, .eventLog, 2)) else { throw .malformed("event log") }
        var out: [(Int64, Int64)] = []
        for row in rows {
            guard let f = row.items, f.count == 2, let b = f[0].octets, let t = COSEMTime.seconds(b), let code = f[1].integerValue else {
                throw .malformed("event log entry")
            }
            out.append((t, code))
        }
        return out
    }
}
