/// Class 2 register functions: set maximum power limit, clear credit, set tariff rate, clear
/// tamper, set maximum phase power unbalance limit, set water meter factor.
///
/// Layout after the subclass: `RND(4) | TID(24) | value(16)`. For the two power limits the value
/// is watts in the transfer-amount encoding; otherwise it is the raw field.
public struct MeterManagement: Hashable, Sendable {
    /// Which register function the token performs.
    public let function: ManagementFunction
    /// The 4-bit random number that makes otherwise equal tokens differ.
    public let rnd: UInt8
    /// The token identifier: the issue minute, which the meter checks against its TID memory.
    public let tid: TokenIdentifier
    /// The raw 16-bit value field.
    public let value: UInt16

    /// Builds the token content; `rnd` is masked to 4 bits.
    @inlinable public init(function: ManagementFunction, rnd: UInt8, tid: TokenIdentifier, value: UInt16) {
        self.function = function
        self.rnd = rnd & 0xF
        self.tid = tid
        self.value = value
    }

    /// For the power-limit functions: the limit in watts the meter will apply.
    public var watts: UInt64? { function.isPowerLimit ? TransferAmount(field: value).units : nil }

    /// The plain class 2 data block `RND | TID | value`, with its CRC.
    @inlinable public var dataBlock: DataBlock {
        DataBlock(tokenClass: .management, subclass: function.rawValue,
                  payload: UInt64(rnd) << 40 | UInt64(tid.value) << 16 | UInt64(value))
    }

    init(block: DataBlock, function: ManagementFunction) {
        let p = block.payload
        self.function = function
        rnd = UInt8(p >> 40 & 0xF)
        tid = TokenIdentifier(field: UInt32(p >> 16 & 0xFF_FFFF))
        value = UInt16(truncatingIfNeeded: p)
    }
}

/// Class 1: initiate a meter test or display. Not encrypted, no TID: any meter of the
/// manufacturer accepts it.
///
/// Subclass 0 (2-digit manufacturer codes): `control(36) | manufacturer(8)`.
/// Subclass 1 (4-digit manufacturer codes): `control(28) | manufacturer(16)`.
public struct MeterTest: Hashable, Sendable {
    /// 0 or 1.
    public let subclass: UInt8
    /// The control bits (which tests or displays to run; their meaning is manufacturer-defined).
    public let control: UInt64
    /// The manufacturer code the meter compares with its own (2 digits in subclass 0, 4 in subclass 1).
    public let manufacturerCode: UInt16

    /// Checks that the fields fit the subclass's widths.
    public init(subclass: UInt8, control: UInt64, manufacturerCode: UInt16) throws(FieldError) {
        switch subclass {
        case 0:
            guard control < 1 << 36 else { throw .outOfRange(field: "control", value: "\(control)", range: "36 bits for subclass 0") }
            guard manufacturerCode <= 99 else { throw .outOfRange(field: "manufacturer code", value: "\(manufacturerCode)", range: "00–99 for subclass 0") }
        case 1:
            guard control < 1 << 28 else { throw .outOfRange(field: "control", value: "\(control)", range: "28 bits for subclass 1") }
            guard manufacturerCode <= 9999 else { throw .outOfRange(field: "manufacturer code", value: "\(manufacturerCode)", range: "0000–9999 for subclass 1") }
        default:
            throw .outOfRange(field: "meter test subclass", value: "\(subclass)", range: "0 or 1")
        }
        self.subclass = subclass
        self.control = control
        self.manufacturerCode = manufacturerCode
    }

    /// The plain class 1 data block `control | manufacturer`, with its CRC (class 1 is never encrypted).
    public var dataBlock: DataBlock {
        let payload = subclass == 0
            ? control << 8 | UInt64(manufacturerCode & 0xFF)
            : control << 16 | UInt64(manufacturerCode)
        return DataBlock(tokenClass: .meterTest, subclass: subclass, payload: payload)
    }

    init(block: DataBlock) {
        let p = block.payload
        subclass = block.subclass
        if subclass == 0 {
            control = p >> 8
            manufacturerCode = UInt16(p & 0xFF)
        } else {
            control = p >> 16
            manufacturerCode = UInt16(truncatingIfNeeded: p)
        }
    }
}
