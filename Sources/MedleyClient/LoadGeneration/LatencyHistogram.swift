/// A fixed-size latency histogram with bounded relative error (log-linear buckets, as in
/// HdrHistogram): percentiles come from bucket counts, never from a sorted sample, so memory
/// stays constant however long a load run lasts and histograms of several threads merge by
/// adding counts.
///
/// Values are nanoseconds. Below 128 ns every value has its own bucket; above, each power of
/// two is split into 64 buckets, so a reported percentile is at most 1/64 (1.6 %) above the
/// true value (the bucket's upper edge is reported).
public struct LatencyHistogram: Sendable, Equatable {
    static let subBucketBits = 6
    static let subBucketCount = 1 << subBucketBits
    /// 128 exact buckets, then 64 per power of two up to 2^63.
    static let bucketCount = 2 * subBucketCount + (63 - subBucketBits) * subBucketCount

    private var counts: [UInt64]
    /// The number of values recorded.
    public private(set) var count: UInt64 = 0
    /// The largest value recorded (exact).
    public private(set) var maximum: UInt64 = 0
    /// The smallest value recorded (exact); 0 when empty.
    public private(set) var minimum: UInt64 = 0
    private var sum: Double = 0

    public init() {
        counts = [UInt64](repeating: 0, count: Self.bucketCount)
    }

    /// The bucket holding `value`.
    static func bucket(of value: UInt64) -> Int {
        if value < UInt64(2 * subBucketCount) { return Int(value) }
        let msb = 63 - value.leadingZeroBitCount
        let shift = msb - subBucketBits
        let top = Int(value >> UInt64(shift))  // in 64..<128
        return 2 * subBucketCount + (shift - 1) * subBucketCount + (top - subBucketCount)
    }

    /// The largest value that falls in `bucket`.
    static func upperEdge(of bucket: Int) -> UInt64 {
        if bucket < 2 * subBucketCount { return UInt64(bucket) }
        let shift = (bucket - 2 * subBucketCount) / subBucketCount + 1
        let top = UInt64(bucket % subBucketCount + subBucketCount)
        return ((top + 1) << UInt64(shift)) - 1
    }

    public mutating func record(nanoseconds value: UInt64) {
        counts[Self.bucket(of: value)] += 1
        minimum = count == 0 ? value : min(minimum, value)
        count += 1
        maximum = max(maximum, value)
        sum += Double(value)
    }

    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        record(nanoseconds: UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000)
    }

    /// Adds another histogram's counts to this one.
    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        for i in counts.indices { counts[i] += other.counts[i] }
        minimum = count == 0 ? other.minimum : min(minimum, other.minimum)
        count += other.count
        maximum = max(maximum, other.maximum)
        sum += other.sum
    }

    /// The value at quantile `q` (0...1) by the nearest-rank rule: the upper edge of the bucket
    /// holding the ⌈q·n⌉-th smallest value, capped at the exact maximum. 0 when empty.
    public func value(atQuantile q: Double) -> UInt64 {
        precondition(q >= 0 && q <= 1, "quantile outside 0...1")
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (bucket, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return min(Self.upperEdge(of: bucket), maximum) }
        }
        return maximum
    }

    /// The mean of the recorded values (exact); 0 when empty.
    public var mean: Double { count == 0 ? 0 : sum / Double(count) }
}
