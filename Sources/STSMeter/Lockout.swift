/// Keypad lockout: after a number of wrong entries the meter refuses meter-specific tokens for
/// a while, and each further wrong entry doubles the wait up to a maximum.
public struct LockoutPolicy: Equatable, Sendable, Codable {
    /// Wrong entries in a row that start the first lockout.
    public var threshold: Int
    /// The first lockout, in seconds.
    public var baseSeconds: Int64
    /// The longest lockout, in seconds.
    public var maximumSeconds: Int64

    /// A policy; by default 3 wrong entries lock for 10 s, doubling up to 1 280 s.
    public init(threshold: Int = 3, baseSeconds: Int64 = 10, maximumSeconds: Int64 = 1280) {
        self.threshold = threshold
        self.baseSeconds = baseSeconds
        self.maximumSeconds = maximumSeconds
    }
}

/// The lockout counters kept in the meter's state.
public struct LockoutState: Equatable, Sendable, Codable {
    /// Wrong entries since the last accepted token.
    public var wrongEntries = 0
    /// Meter-specific tokens are refused before this time (seconds since 1970).
    public var lockedUntil: Int64 = 0
    /// The length of the last lockout (0: none yet).
    public var lastSeconds: Int64 = 0

    /// No wrong entries and no lockout.
    public init() {}

    /// Whether the keypad is locked at `now`.
    @inlinable public func isLocked(at now: Int64) -> Bool { now < lockedUntil }

    /// The most wrong entries counted (the count only has to pass the threshold).
    public static let maximumWrongEntries = 1_000_000

    /// Counts a wrong entry; starts or doubles a lockout when the threshold is reached. Every
    /// step saturates: counters and times come from a state file and a clock that may be hostile.
    public mutating func recordWrongEntry(at now: Int64, policy: LockoutPolicy) {
        wrongEntries = min(max(wrongEntries, 0), Self.maximumWrongEntries - 1) + 1
        guard wrongEntries >= policy.threshold else { return }
        let doubled = lastSeconds.multipliedReportingOverflow(by: 2)
        lastSeconds = lastSeconds <= 0 ? policy.baseSeconds : min(doubled.overflow ? Int64.max : doubled.partialValue, policy.maximumSeconds)
        let until = now.addingReportingOverflow(lastSeconds)
        lockedUntil = until.overflow ? Int64.max : until.partialValue
    }

    /// An accepted token ends the run of wrong entries.
    @inlinable public mutating func recordAccepted() {
        if wrongEntries != 0 || lastSeconds != 0 || lockedUntil != 0 { self = LockoutState() }
    }
}
