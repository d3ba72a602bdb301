import Dispatch

/// How the trainer's fits after training (the rules' blend, the domain lists' share) measure
/// their choices on validation examples: at most a given number of them, evenly spread, and a
/// sum per choice computed on up to `threads` threads, each over an equal contiguous share of
/// the examples and added in share order, so that the sums depend on the thread count only
/// (not on how many of the shares run at once, `cores`).
enum ExampleSums {
    /// Every k-th example, k the smallest stride that keeps at most `limit` of them.
    static func evenlySpread<T>(_ all: [T], atMost limit: Int) -> [T] {
        let stride = max(1, (all.count + limit - 1) / limit)
        return Swift.stride(from: 0, to: all.count, by: stride).map { all[$0] }
    }

    /// `count` sums over `examples`: `body` adds one share's contributions to the sums it is
    /// given (zeros at first).
    static func sums(over examples: [TrainingExample], count: Int, threads: Int, cores: Int,
                     _ body: @Sendable (ArraySlice<TrainingExample>, inout [Double]) -> Void) -> [Double] {
        let shareCount = max(1, min(threads, examples.count))
        let per = (examples.count + shareCount - 1) / shareCount
        let shares = Shares(shareCount, count)
        CoreLimitedWork.perform(shareCount, cores: cores) { share in
            var sums = [Double](repeating: 0, count: count)
            body(examples[min(examples.count, share * per)..<min(examples.count, (share + 1) * per)], &sums)
            shares.values[share] = sums
        }
        return (0..<count).map { c in shares.values.reduce(0) { $0 + $1[c] } }
    }
}

/// The sums of each share of ``ExampleSums/sums(over:count:threads:cores:_:)``.
/// `@unchecked Sendable`: each share writes only its own row, once.
private final class Shares: @unchecked Sendable {
    var values: [[Double]]
    init(_ shares: Int, _ count: Int) { values = Array(repeating: Array(repeating: 0, count: count), count: shares) }
}
