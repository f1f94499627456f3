/// One thing wrong with a log, at the exact line (1-based) and entry it was found in.
public struct AuditProblem: Hashable, Sendable, CustomStringConvertible {
    /// The line of the file (1-based).
    public var line: Int
    /// The entry's `seq` when it could be read.
    public var seq: Int64?
    /// A stable short name: `format`, `hash`, `chain`, `sequence`, `signature`, `unsealed`,
    /// `station-key`, `duplicate-tid`, `money`, `units`, `token`, `reference`.
    public var code: String
    public var message: String

    public init(line: Int, seq: Int64?, code: String, message: String) {
        self.line = line
        self.seq = seq
        self.code = code
        self.message = message
    }

    public var description: String {
        "line \(line)\(seq.map { " (seq \($0))" } ?? ""): \(code): \(message)"
    }
}

/// What a verification found: counts, totals and every problem.
public struct AuditReport: Sendable {
    public var entries = 0
    public var checkpoints = 0
    public var sales = 0
    public var reversals = 0
    public var tokens = 0
    /// Tokens decrypted with the auditor's keys and matched to their entry.
    public var tokensDecrypted = 0
    /// Money paid in over all sales, and refunded by reversals (cents).
    public var paidCents: Int64 = 0
    public var refundedCents: Int64 = 0
    /// Energy sold, tenths of a kWh.
    public var unitsTenths: Int64 = 0
    /// The last entry's seq and hash: compare with the station's published head to detect a
    /// log cut short at an earlier export.
    public var lastSeq: Int64 = 0
    public var head = ""
    public var problems: [AuditProblem] = []

    public var isClean: Bool { problems.isEmpty && entries > 0 }
}
