/// The decoder key type (KT): how the key was generated and what it may be used for.
public enum KeyType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// DITK: initialisation key, loaded at manufacture.
    case initialisation = 0
    /// DDTK: default key; meters refuse credit tokens under it.
    case `default` = 1
    /// DUTK: unique to one meter (the normal case).
    case unique = 2
    /// DCTK: common to a supply group; its derivation ignores the meter's serial.
    case common = 3

    /// A key type from its numeric code; throws `outOfRange` outside 0 … 3.
    public init(_ value: Int) throws(FieldError) {
        guard let kt = KeyType(rawValue: UInt8(clamping: max(0, value))), value >= 0 else {
            throw .outOfRange(field: "key type", value: "\(value)", range: "0–3")
        }
        self = kt
    }

    /// The standard abbreviation: DITK, DDTK, DUTK or DCTK.
    public var description: String {
        switch self {
        case .initialisation: return "DITK"
        case .default: return "DDTK"
        case .unique: return "DUTK"
        case .common: return "DCTK"
        }
    }
}
