import Dispatch

/// A fixed number of independent pieces of work (the shards of a batch, the shares of a
/// fit) run on at most a given number of cores: all at once when there are enough, in index
/// order on the calling thread with one. Each piece writes only its own results, and the
/// pieces are combined afterwards in index order, so the bits do not depend on the limit:
/// a model trained on one core is the model trained on two. This is what lets an evaluation
/// train two models side by side, one core each (``TrainingConfiguration/cores``).
enum CoreLimitedWork {
    /// Calls `body(i)` once for every `i` in `0..<count`, at most `cores` at a time.
    static func perform(_ count: Int, cores: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let lanes = min(max(1, cores), count)
        guard lanes > 1 else {
            for i in 0..<count { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            for i in stride(from: lane, to: count, by: lanes) { body(i) }
        }
    }
}
