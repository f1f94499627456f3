import Foundation
import STSStation
import Synchronization

/// Group commit across requests: items that arrive while a commit is running wait for the next
/// one, and each commit is one durable transaction holding all of them (each in its own
/// savepoint, so a refused one costs only itself). An answer is sent only after its item's
/// transaction is durable. Under load this turns N fsyncs into one; alone, a request waits for
/// nothing but its own commit.
final class GroupCommitter<Item: Sendable, Outcome: Sendable>: Sendable {
    private struct Waiting: @unchecked Sendable {
        var item: Item
        var done: CheckedContinuation<Outcome, Never>
    }
    private struct State: @unchecked Sendable {
        var waiting: [Waiting] = []
        var running = false
    }

    /// The most items in one transaction.
    let groupLimit: Int
    /// Commits a group; returns one outcome per item, in order.
    let commit: @Sendable ([Item]) -> [Outcome]
    private let state = Mutex(State())
    private let queue: DispatchQueue

    init(label: String, groupLimit: Int = 512, commit: @escaping @Sendable ([Item]) -> [Outcome]) {
        self.groupLimit = groupLimit
        self.commit = commit
        queue = DispatchQueue(label: label)
    }

    /// Commits `item` in the next group; returns once it is durable (or refused).
    func submit(_ item: Item) async -> Outcome {
        await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
            let start = state.withLock { s -> Bool in
                s.waiting.append(Waiting(item: item, done: c))
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
            let outcomes = commit(group.map(\.item))
            for (w, o) in zip(group, outcomes) { w.done.resume(returning: o) }
        }
    }
}

/// Sales for the API and the console, group-committed: one transaction per acting user in a
/// group (the log names who sold each sale).
final class SaleCommitter: Sendable {
    typealias Outcome = Result<SaleReceipt, StationError>
    struct Item: Sendable {
        var request: SaleRequest
        var actor: Actor
    }
    private let committer: GroupCommitter<Item, Outcome>

    init(station: Station, groupLimit: Int = 512) {
        committer = GroupCommitter(label: "stsvend.sale-commit", groupLimit: groupLimit) { group in Self.commit(group, station) }
    }

    /// Sells `request` in the next group commit; returns once it is durable (or refused).
    func sell(_ request: SaleRequest, by actor: Actor) async -> Outcome {
        await committer.submit(Item(request: request, actor: actor))
    }

    private static func commit(_ group: [Item], _ station: Station) -> [Outcome] {
        var outcomes = [Outcome?](repeating: nil, count: group.count)
        var byActor: [Actor: [Int]] = [:]
        var order: [Actor] = []
        for (i, w) in group.enumerated() {
            if byActor[w.actor] == nil { order.append(w.actor) }
            byActor[w.actor, default: []].append(i)
        }
        for key in order {
            let members = byActor[key] ?? []
            do {
                try station.sellBatch(members.map { group[$0].request }, groupSize: members.count, by: key) { results in
                    for r in results {
                        outcomes[members[r.index]] = r.receipt.map { .success($0) } ?? .failure(r.failure ?? .vending(r.error ?? "the sale was refused"))
                    }
                }
            } catch let e as StationError {
                for i in members where outcomes[i] == nil { outcomes[i] = .failure(e) }
            } catch {
                for i in members where outcomes[i] == nil { outcomes[i] = .failure(.store("the sale could not be committed")) }
            }
        }
        return outcomes.map { $0 ?? .failure(.store("the sale could not be committed")) }
    }
}

/// Point-of-sale purchases, group-committed the same way (Specs/prepaid-utility.md §4.3).
final class POSPurchaseCommitter: Sendable {
    typealias Outcome = Result<POSAnswer, StationError>
    private let committer: GroupCommitter<POSPurchase, Outcome>

    init(station: Station, groupLimit: Int = 512) {
        committer = GroupCommitter(label: "stsvend.pos-commit", groupLimit: groupLimit) { group in station.posPurchases(group) }
    }

    /// Commits `purchase` in the next group; returns once it is durable (or refused).
    func purchase(_ purchase: POSPurchase) async -> Outcome { await committer.submit(purchase) }
}
