/// The three kinds of people at a station.
public enum Role: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Sells, reprints, registers customers and meters, changes tenants, reads.
    case `operator`
    /// Everything an operator does, plus reversals, tariffs, keys, users, engineering tokens and
    /// key-change campaigns (tariff and key changes with a second factor).
    case supervisor
    /// Reads everything and exports the log; changes nothing.
    case auditor

    /// The role's name (`operator`, `supervisor`, `auditor`).
    public var description: String { rawValue }
}

/// An authenticated person acting on the station; every change names one.
public struct Actor: Sendable, Hashable {
    /// The user's name, written as the actor of every log entry they cause.
    public let name: String
    /// What the user may do.
    public let role: Role
    /// Whether the second factor was checked in this session.
    public let secondFactor: Bool

    /// Throws unless the actor's role is one of `roles` (and, if asked, the second factor was given).
    public func require(_ roles: Set<Role>, to action: String, secondFactor needed: Bool = false) throws(StationError) {
        guard roles.contains(role) else { throw .notPermitted(user: name, role: role, action: action) }
        if needed && !secondFactor { throw .secondFactorRequired(action: action) }
    }
}

/// Roles that may sell and register.
let sellers: Set<Role> = [.operator, .supervisor]
