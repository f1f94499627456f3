/// The token identifier (TID): minutes since the key's base date, 24 bits.
///
/// It is both the token's issue time and its serial number: a meter remembers the TIDs it has
/// accepted and refuses a repeat (USED) or one older than its memory (OLD). 2^24 minutes is
/// about 31.9 years, which is why base dates move (1993 → 2014 → 2035).
public struct TokenIdentifier: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// 0 … 16 777 215.
    public let value: UInt32

    /// The largest TID.
    public static let maximum: UInt32 = 0xFF_FFFF

    /// A TID from its numeric value; more than 24 bits is an error, never truncated.
    public init(_ value: Int) throws(FieldError) {
        guard (0...Int(Self.maximum)).contains(value) else {
            throw .outOfRange(field: "token identifier", value: "\(value)", range: "0–16777215 (24 bits)")
        }
        self.value = UInt32(value)
    }

    /// A TID from a field that is already 24 bits wide (decoded tokens).
    public init(field: UInt32) { value = field & Self.maximum }

    /// The TID of a time: whole minutes since the base date (UTC). Does not apply the
    /// reserved-minute rule; see ``forVending(atUnixSeconds:baseDate:)``.
    public init(atUnixSeconds seconds: Int64, baseDate: BaseDate) throws(FieldError) {
        let delta = seconds - baseDate.unixSeconds
        let minutes = delta >= 0 ? delta / 60 : (delta - 59) / 60
        guard minutes >= 0, minutes <= Int64(Self.maximum) else {
            throw .tidOutOfRange(minutes: minutes, baseDate: baseDate.year)
        }
        value = UInt32(minutes)
    }

    /// The TID a vending system puts on a token issued at this time: the minute since the base
    /// date, moved on by one when it is the reserved 00:01 minute of a day.
    public static func forVending(atUnixSeconds seconds: Int64, baseDate: BaseDate) throws(FieldError) -> TokenIdentifier {
        let tid = try TokenIdentifier(atUnixSeconds: seconds, baseDate: baseDate)
        return tid.isReserved ? try TokenIdentifier(Int(tid.value) + 1) : tid
    }

    /// The TID against which a key's expiry is judged at a time: times before the base date
    /// count as TID 0 (a key for a later base date is not expired before it starts).
    public static func forExpiryCheck(atUnixSeconds seconds: Int64, baseDate: BaseDate) throws(FieldError) -> TokenIdentifier {
        seconds < baseDate.unixSeconds ? TokenIdentifier(field: 0) : try TokenIdentifier(atUnixSeconds: seconds, baseDate: baseDate)
    }

    /// Whether this is the 00:01 minute of a day, which STS reserves (SpecialReservedTokenIdentifier):
    /// vending systems do not put it on ordinary tokens.
    public var isReserved: Bool { value % 1440 == 1 }

    /// The UTC time this TID stands for, as `YYYY-MM-DDTHH:MMZ`.
    public func time(baseDate: BaseDate) -> String {
        CivilTime.formatMinutes(baseDate.unixSeconds / 60 + Int64(value))
    }

    /// Orders TIDs by value: under one base date, the order in which tokens were issued.
    public static func < (a: TokenIdentifier, b: TokenIdentifier) -> Bool { a.value < b.value }

    /// The TID as a decimal number.
    public var description: String { "\(value)" }
}
