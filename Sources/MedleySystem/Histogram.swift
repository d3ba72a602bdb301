/// Counts of observations by upper bound, as Prometheus histograms expose them: fixed
/// buckets, so memory is constant however many values are recorded.
public struct Histogram: Sendable, Equatable {
    /// The buckets' inclusive upper bounds, increasing; a last bucket, +Inf, takes the rest.
    public let upperBounds: [Double]
    /// Observations per bucket (not cumulative); one more entry than `upperBounds`, for +Inf.
    public private(set) var bucketCounts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(upperBounds: [Double]) {
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must increase")
        self.upperBounds = upperBounds
        bucketCounts = [UInt64](repeating: 0, count: upperBounds.count + 1)
    }

    public mutating func record(_ value: Double) {
        let bucket = upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
        bucketCounts[bucket] += 1
        sum += value
        count += 1
    }

    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        record(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Latencies in seconds, from 50 µs to 10 s.
    public static func latencySeconds() -> Histogram {
        Histogram(upperBounds: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10])
    }

    /// Batch sizes, powers of two up to 1,024.
    public static func sizes() -> Histogram {
        Histogram(upperBounds: (0...10).map { Double(1 << $0) })
    }
}
