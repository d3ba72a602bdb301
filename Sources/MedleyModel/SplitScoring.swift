import Dispatch
import Synchronization

/// One block of item rows scored in contiguous parts on threads of their own, each part into
/// accumulators of its own, merged after: exact, because a list's top K over the whole block
/// is among the union of the parts' top K (the ranking order is total: score, then row).
/// Serves a lone request on a large catalogue when other workers leave their cores idle
/// (``IdleWorkerCores``).
enum SplitScoring {
    /// Fewer rows than this per part cost more in threads and merging than they save (at
    /// d = 64, 8,192 rows are 2 MiB of the table, about half a millisecond of one core).
    static let minimumRowsPerPart = 8_192

    /// The parts a block of `rows` rows is split into with `threads` threads at hand.
    static func parts(rows: Int, threads: Int) -> Int {
        max(1, min(threads, rows / minimumRowsPerPart))
    }

    /// Offers every row of `rows` to `accumulators` through `score`, which scores the rows it is
    /// given into the accumulators it is given (one per query, as `accumulators`); with more
    /// than one part, `score` runs on several threads at once.
    static func offer(rows: Range<Int>, parts: Int, into accumulators: inout [TopKAccumulator],
                      score: @Sendable (_ rows: Range<Int>, _ accumulators: inout [TopKAccumulator]) -> Void) {
        guard parts > 1 else {
            score(rows, &accumulators)
            return
        }
        let capacities = accumulators.map(\.capacity)
        let partRows = (rows.count + parts - 1) / parts
        let results = Mutex([[TopKAccumulator]](repeating: [], count: parts))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let lower = rows.lowerBound + part * partRows
            var own = capacities.map { TopKAccumulator(capacity: $0) }
            score(lower..<min(rows.upperBound, lower + partRows), &own)
            results.withLock { $0[part] = own }
        }
        for partial in results.withLock({ $0 }) {
            for (q, accumulator) in partial.enumerated() {
                accumulator.forEachUnordered { accumulators[q].offer(index: $0.index, score: $0.score) }
            }
        }
    }
}
