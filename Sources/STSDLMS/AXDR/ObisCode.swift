/// A COSEM logical name: the six OBIS value groups A.B.C.D.E.F (IEC 62056-61).
public struct ObisCode: Hashable, Sendable, CustomStringConvertible {
    /// The six bytes.
    public let bytes: [UInt8]

    /// From six bytes (anything else is not a logical name).
    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// From its six groups.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) { bytes = [a, b, c, d, e, f] }

    /// From the dotted text `A.B.C.D.E.F`.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for p in parts { guard p.count <= 3, let v = UInt8(p) else { return nil }; out.append(v) }
        bytes = out
    }

    /// `A.B.C.D.E.F`.
    public var description: String { bytes.map(String.init).joined(separator: ".") }
}

/// The logical names this toolkit serves and reads (DLMS UA Blue Book assignments).
extension ObisCode {
    /// The current association (Association LN, IC 15).
    public static let currentAssociation = ObisCode(0, 0, 40, 0, 0, 255)
    /// The clock (IC 8).
    public static let clock = ObisCode(0, 0, 1, 0, 0, 255)
    /// The invocation counter of the management client's security context (Data, IC 1).
    public static let invocationCounter = ObisCode(0, 0, 43, 1, 0, 255)
    /// The code of the newest event (Data, IC 1): the event log's captured value.
    public static let eventCode = ObisCode(0, 0, 96, 11, 0, 255)
    /// Active energy import, total (Register, IC 3).
    public static let activeEnergyImport = ObisCode(1, 0, 1, 8, 0, 255)
    /// Instantaneous active power import (Register, IC 3).
    public static let instantaneousPower = ObisCode(1, 0, 1, 7, 0, 255)
    /// The account (IC 111).
    public static let account = ObisCode(0, 0, 19, 0, 0, 255)
    /// The first credit object (IC 112).
    public static let credit = ObisCode(0, 0, 19, 10, 0, 255)
    /// The token gateway (IC 115).
    public static let tokenGateway = ObisCode(0, 0, 19, 40, 0, 255)
    /// The supply disconnector (Disconnect control, IC 70).
    public static let disconnectControl = ObisCode(0, 0, 96, 3, 10, 255)
    /// The load profile (Profile generic, IC 7), 15-minute energy.
    public static let loadProfile = ObisCode(1, 0, 99, 1, 0, 255)
    /// The standard event log (Profile generic, IC 7).
    public static let eventLog = ObisCode(0, 0, 99, 98, 0, 255)
}

/// COSEM interface class identifiers used here.
public enum InterfaceClass: UInt16, Sendable {
    case data = 1, register = 3, profileGeneric = 7, clock = 8, disconnectControl = 70
    case associationLN = 15, account = 111, credit = 112, tokenGateway = 115
}
