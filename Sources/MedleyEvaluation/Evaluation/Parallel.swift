import Dispatch
import Foundation
import Synchronization

/// Runs independent pieces of work on all cores and collects one result per piece.
enum Parallel {
    /// `body(i)` for every `i` in `0..<count`, spread over the machine's cores; results in
    /// index order.
    static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let slots = Slots<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            slots.set(i, body(i))
        }
        return slots.values()
    }

    /// `job(i)` for every `i` in `0..<count` on `lanes` threads of their own, each lane
    /// starting the next job not yet started (in index order) whenever it is free: long jobs
    /// (the models of an evaluation) side by side. Once a job fails no lane starts another;
    /// the results are in index order, nil for the jobs never started.
    static func inLanes<T: Sendable, E: Error>(_ count: Int, lanes: Int,
                                               _ job: @escaping @Sendable (Int) -> Result<T, E>) -> [Result<T, E>?] {
        let queue = JobQueue<T, E>(count: count)
        let finished = DispatchGroup()
        for _ in 0..<max(1, min(lanes, count)) {
            finished.enter()
            let lane = Thread {
                while let index = queue.take() { queue.finish(index, job(index)) }
                finished.leave()
            }
            // A lane runs whole trainings (on one core, every shard of them): a main thread's stack.
            lane.stackSize = 8 << 20
            lane.start()
        }
        finished.wait()
        return queue.results
    }

    /// A reasonable number of chunks for `n` items of work: several per core, so that uneven
    /// chunks still keep every core busy to the end.
    static func chunkCount(for n: Int) -> Int {
        max(1, min(n, ProcessInfo.processInfo.activeProcessorCount * 8))
    }
}

/// Write-once result slots. Safe to share because each index is written by exactly one
/// iteration of `concurrentPerform`, and read only after it has returned (which orders the
/// writes before the reads). A raw allocation, not an array property, so that concurrent
/// writes to different slots are not overlapping accesses to one variable.
private final class Slots<T>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    func set(_ index: Int, _ value: T) {
        precondition(storage.indices.contains(index))
        storage[index] = value
    }

    func values() -> [T] {
        storage.map { $0! }
    }
}

/// The jobs of ``Parallel/inLanes(_:lanes:_:)``: which to start next, and their results.
private final class JobQueue<T: Sendable, E: Error>: Sendable {
    private let state: Mutex<(next: Int, failed: Bool, results: [Result<T, E>?])>
    private let count: Int

    init(count: Int) {
        self.count = count
        state = Mutex((next: 0, failed: false, results: Array(repeating: nil, count: count)))
    }

    /// The next job to start, or nil when all have started or one has failed.
    func take() -> Int? {
        state.withLock { s in
            guard !s.failed, s.next < count else { return nil }
            defer { s.next += 1 }
            return s.next
        }
    }

    func finish(_ index: Int, _ result: Result<T, E>) {
        state.withLock { s in
            s.results[index] = result
            if case .failure = result { s.failed = true }
        }
    }

    var results: [Result<T, E>?] { state.withLock { $0.results } }
}
