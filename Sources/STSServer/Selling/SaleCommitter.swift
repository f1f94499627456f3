import Foundation
import STSStation
import Synchronization

/// Group commit across requests: sale requests that arrive while a commit is running wait for
/// the next one, and each commit is one durable SQLite transaction holding all of them (each
/// sale in its own savepoint, so a refused one costs only itself). A response is sent only after
/// its sale's transaction is durable. Under load this turns N fsyncs into one; alone, a request
/// waits for nothing but its own commit.
final class SaleCommitter: Sendable {
    typealias Outcome = Result<SaleReceipt, StationError>
    private struct Waiting: @unchecked Sendable {
        var request: SaleRequest
        var actor: Actor
        var done: CheckedContinuation<Outcome, Never>
    }
    private struct State: @unchecked Sendable {
        var waiting: [Waiting] = []
        var running = false
    }

    let station: Station
    /// The most sales in one transaction.
    let groupLimit: Int
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "stsvend.sale-commit")

    init(station: Station, groupLimit: Int = 512) {
        self.station = station
        self.groupLimit = groupLimit
    }

    /// Sells `request` in the next group commit; returns once it is durable (or refused).
    func sell(_ request: SaleRequest, by actor: Actor) async -> Outcome {
        await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
            let start = state.withLock { s -> Bool in
                s.waiting.append(Waiting(request: request, actor: actor, done: c))
                if s.running { return false }
                s.running = true
                return true
            }
            if start { queue.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let group: [Waiting] = state.withLock { s in
                if s.waiting.isEmpty { s.running = false; return [] }
                let n = min(s.waiting.count, groupLimit)
                let g = Array(s.waiting.prefix(n))
                s.waiting.removeFirst(n)
                return g
            }
            if group.isEmpty { return }
            commit(group)
        }
    }

    /// One transaction per acting user in the group (the log names who sold each sale).
    private func commit(_ group: [Waiting]) {
        var byActor: [Actor: [Waiting]] = [:]
        var order: [Actor] = []
        for w in group {
            if byActor[w.actor] == nil { order.append(w.actor) }
            byActor[w.actor, default: []].append(w)
        }
        for key in order {
            let members = byActor[key] ?? []
            var outcomes = [Outcome?](repeating: nil, count: members.count)
            do {
                try station.sellBatch(members.map(\.request), groupSize: members.count, by: members[0].actor) { results in
                    for r in results {
                        if let receipt = r.receipt { outcomes[r.index] = .success(receipt) } else {
                            outcomes[r.index] = .failure(r.failure ?? .vending(r.error ?? "the sale was refused"))
                        }
                    }
                }
            } catch let e as StationError {
                for i in outcomes.indices where outcomes[i] == nil { outcomes[i] = .failure(e) }
            } catch {
                for i in outcomes.indices where outcomes[i] == nil { outcomes[i] = .failure(.store("the sale could not be committed")) }
            }
            for (i, w) in members.enumerated() { w.done.resume(returning: outcomes[i] ?? .failure(.store("the sale could not be committed"))) }
        }
    }
}
