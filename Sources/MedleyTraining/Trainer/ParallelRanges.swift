import Dispatch

/// Element-wise passes over large tensors (the optimiser's step, summing the shards'
/// gradients) split across the trainer's threads. Each element's result does not depend on
/// the split, so the bits are those of one pass; the split only keeps the second core busy
/// during what was the step's serial part (a sixth of a multitask epoch's time).
enum ParallelRanges {
    /// Below this many elements a pass runs on the calling thread: waking another costs more.
    static let minimumElements = 1 << 14

    /// The threads a pass over `elements` elements should use.
    static func threads(forElements elements: Int, available: Int) -> Int {
        elements >= minimumElements ? max(1, available) : 1
    }

    /// Calls `body` with contiguous ranges that cover `0..<count` once, one per thread, the
    /// boundaries multiples of `alignment`; on the calling thread alone when `threads` is 1.
    static func forEach(_ count: Int, threads: Int, alignment: Int = 8, _ body: @Sendable (Range<Int>) -> Void) {
        guard threads > 1, count > alignment else { return body(0..<count) }
        let step = ((count + threads - 1) / threads + alignment - 1) / alignment * alignment
        DispatchQueue.concurrentPerform(iterations: threads) { piece in
            let range = min(count, piece * step)..<min(count, (piece + 1) * step)
            if !range.isEmpty { body(range) }
        }
    }
}

/// Buffers handed to the threads of one split pass. Unchecked: each thread reads and writes
/// only the elements of its own range, and the pass returns before the buffers are released.
struct SharedBuffers<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
