import Synchronization

/// How many of a server's worker threads are scoring right now, so that a worker may borrow
/// the cores the others leave idle: a lone request on a large catalogue splits its item blocks
/// over itself and the idle workers' share of threads (``MultitaskModel/recommend(_:options:threads:)``).
///
/// Shared by the worker threads of one process; the count is an atomic, read and changed
/// without a lock.
public final class IdleWorkerCores: Sendable {
    /// The worker threads that share the count.
    public let workers: Int
    private let busy = Atomic<Int>(0)

    public init(workers: Int) {
        precondition(workers > 0, "at least one worker")
        self.workers = workers
    }

    /// Runs `body` counted as one busy worker, passing the threads it may score with: itself
    /// and every worker idle when it started.
    public func scoring<Result>(_ body: (_ threads: Int) throws -> Result) rethrows -> Result {
        let nowBusy = busy.add(1, ordering: .acquiringAndReleasing).newValue
        defer { busy.subtract(1, ordering: .acquiringAndReleasing) }
        return try body(max(1, workers - nowBusy + 1))
    }
}
