import Synchronization

/// What stands before the station's own login checks: at most two password checks at once
/// (each scrypt takes 32 MiB and a core for ~0.1 s), and at most `failuresPerMinute` failed
/// logins a minute from one address, answered 429 before anything is checked or written (the
/// station's throttle counts per name; this stops one address trying many names).
final class LoginGate: Sendable {
    static let concurrent = 2
    let failuresPerMinute: Int
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var failures: [String: (minute: Int64, count: Int)] = [:]
    }
    private let state = Mutex(State())
    let now: @Sendable () -> Int64

    init(failuresPerMinute: Int, now: @escaping @Sendable () -> Int64) {
        self.failuresPerMinute = failuresPerMinute
        self.now = now
    }

    /// Whether `source` may try again this minute.
    func allows(_ source: String) -> Bool {
        let minute = now() / 60
        return state.withLock { s in
            guard let f = s.failures[source], f.minute == minute else { return true }
            return f.count < failuresPerMinute
        }
    }

    /// Counts a failed login from `source`.
    func failed(_ source: String) {
        let minute = now() / 60
        state.withLock { s in
            if s.failures.count > 100_000 { s.failures = s.failures.filter { $0.value.minute == minute } }
            let f = s.failures[source]
            s.failures[source] = (minute, f?.minute == minute ? (f?.count ?? 0) + 1 : 1)
        }
    }

    /// Runs `body` when fewer than ``concurrent`` password checks are running (others wait, without a thread).
    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLock { s -> Bool in
                if s.running < Self.concurrent { s.running += 1; return true }
                s.waiting.append(c)
                return false
            }
            if go { c.resume() }
        }
        defer {
            let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if s.waiting.isEmpty { s.running -= 1; return nil }
                return s.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
