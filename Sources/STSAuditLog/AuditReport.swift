/// One thing wrong with a log, at the exact line (1-based) and entry it was found in.
public struct AuditProblem: Hashable, Sendable, CustomStringConvertible {
    /// The line of the file (1-based).
    public var line: Int
    /// The entry's `seq` when it could be read.
    public var seq: Int64?
    /// A stable short name: `format`, `hash`, `chain`, `sequence`, `signature`, `unsealed`,
    /// `station-key`, `duplicate-tid`, `money`, `units`, `token`, `reference`.
    public var code: String
    /// What is wrong, for people (not part of the verification rules).
    public var message: String

    /// A problem at a 1-based line (0 for the empty log), with the entry's seq when readable.
    public init(line: Int, seq: Int64?, code: String, message: String) {
        self.line = line
        self.seq = seq
        self.code = code
        self.message = message
    }

    /// The problem as `audit verify` prints it: `line L (seq S): code: message`.
    public var description: String {
        "line \(line)\(seq.map { " (seq \($0))" } ?? ""): \(code): \(message)"
    }
}

/// What a verification found: counts, totals and every problem.
public struct AuditReport: Sendable {
    /// Every line of the log, readable or not.
    public var entries = 0
    /// Readable `checkpoint` lines, valid or not.
    public var checkpoints = 0
    /// `sale` lines with an integer `sale` and `account`, problems and reversals included.
    public var sales = 0
    /// `reversal` lines, whatever their fields.
    public var reversals = 0
    /// `card_void` lines: card purchases withdrawn, their credit carried back to the account.
    public var cardVoids = 0
    /// Elements of the `tokens` arrays read, well formed or not.
    public var tokens = 0
    /// Tokens that decrypted (CRC and layout checked) under the auditor's keys; a TID that
    /// differs from the entry's is a `token` problem, the token still counts here.
    public var tokensDecrypted = 0
    /// Money paid in over all sales, and refunded by reversals (cents).
    public var paidCents: Int64 = 0
    /// Money refunded by the first reversal of each recorded sale (cents).
    public var refundedCents: Int64 = 0
    /// Energy sold, tenths of a kWh.
    public var unitsTenths: Int64 = 0
    /// The last entry's seq and hash: compare with the station's published head to detect a
    /// log cut short at an earlier export.
    public var lastSeq: Int64 = 0
    /// The last line's hash in hex (empty when it is unreadable or there are no lines): compare it
    /// with the head published at export.
    public var head = ""
    /// Problems in line order (at most ``maximumProblems``; the rest are counted in ``problemsOmitted``).
    public var problems: [AuditProblem] = []
    /// Problems found but not kept, beyond ``maximumProblems`` (a log of a million bad lines
    /// should not take a million messages of memory).
    public var problemsOmitted = 0

    /// The most problems a report keeps.
    public static let maximumProblems = 10_000

    /// Whether the log has at least one entry and no problem was found (kept or omitted).
    public var isClean: Bool { problems.isEmpty && problemsOmitted == 0 && entries > 0 }

    /// Every problem found, kept or not.
    public var problemCount: Int { problems.count + problemsOmitted }

    /// Keeps a problem in line order (after those of the same line already kept).
    mutating func record(_ p: AuditProblem) {
        var at = problems.count
        while at > 0, problems[at - 1].line > p.line { at -= 1 }
        if at == problems.count {
            guard problems.count < Self.maximumProblems else { problemsOmitted += 1; return }
            problems.append(p)
            return
        }
        problems.insert(p, at: at)
        if problems.count > Self.maximumProblems {
            problems.removeLast()
            problemsOmitted += 1
        }
    }
}
