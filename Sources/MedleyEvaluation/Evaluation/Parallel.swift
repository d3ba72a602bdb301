import Dispatch
import Foundation

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
