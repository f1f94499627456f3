import Dispatch

/// Runs async work from synchronous code (a command, a worker thread) and waits for it.
public enum BlockingTask {
    /// The result of `work`; with a `timeout` in seconds, an error of `onTimeout` when it takes longer.
    public static func run<T: Sendable>(timeout: Double? = nil, onTimeout: @autoclosure () -> any Error = BlockingTaskTimeout(),
                                        _ work: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.set(.success(try await work())) } catch { box.set(.failure(error)) }
            done.signal()
        }
        if let timeout {
            guard done.wait(timeout: .now() + timeout) == .success else { throw onTimeout() }
        } else {
            done.wait()
        }
        guard let result = box.get() else { throw onTimeout() }
        return try result.get()
    }
}

/// The work did not finish in time.
public struct BlockingTaskTimeout: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "no answer in time" }
}

private final class ResultBox<T>: @unchecked Sendable {
    private let lock = DispatchSemaphore(value: 1)
    private var result: Result<T, Error>?
    func set(_ r: Result<T, Error>) { lock.wait(); result = r; lock.signal() }
    func get() -> Result<T, Error>? { lock.wait(); defer { lock.signal() }; return result }
}
