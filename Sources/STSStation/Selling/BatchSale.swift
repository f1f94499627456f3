import Foundation

/// The outcome of one request of a batch: its receipt or why it was refused.
public struct BatchSaleResult: Sendable {
    /// The request's position in the batch (0-based).
    public var index: Int
    /// The request as given.
    public var request: SaleRequest
    /// The receipt when it sold (or was sold before under the same request id).
    public var receipt: SaleReceipt?
    /// The message why the station refused it; nil when it sold.
    public var error: String?
    /// The station's coded refusal, when it was one (servers answer with its code).
    public var failure: StationError?
}

extension Station {
    /// Sells a batch in groups: each group of `groupSize` requests is one transaction (one fsync),
    /// and each request inside it runs in a savepoint, so a refused request (unknown meter,
    /// too little money) costs nothing but its own line. `committed` is called after each group
    /// is durable, with its results, before the next group starts: a crash loses at most the
    /// uncommitted group, and rerunning the batch with the same request ids returns the committed
    /// sales (`replayed`) instead of selling twice.
    public func sellBatch(_ requests: [SaleRequest], groupSize: Int = 500, by actor: Actor,
                          committed: ([BatchSaleResult]) throws -> Void) throws {
        try actor.require(sellers, to: "sell")
        var start = 0
        while start < requests.count {
            let end = min(start + max(1, groupSize), requests.count)
            let results: [BatchSaleResult] = try write { tx in
                var out: [BatchSaleResult] = []
                out.reserveCapacity(end - start)
                for i in start..<end {
                    var result = BatchSaleResult(index: i, request: requests[i])
                    do {
                        try tx.db.inSavepoint {
                            result.receipt = try sell(requests[i], by: actor, tx)
                            return .commit
                        }
                    } catch let e as StoreDBError {
                        // Storage failed: the whole group stops (and is rolled back), in plain words.
                        throw e
                    } catch let e as StationError {
                        tx.forgetHead()
                        result.error = e.description
                        result.failure = e
                    } catch {
                        tx.forgetHead()
                        result.error = "\(error)"
                    }
                    out.append(result)
                }
                return out
            }
            try committed(results)
            start = end
        }
    }
}
