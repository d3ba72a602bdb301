import MedleyProtocol

/// The latencies of the most recent requests, for percentiles: a ring of the last
/// `capacity` samples, so memory is fixed and old traffic ages out.
struct LatencyWindow {
    private var samples: [UInt64]
    private var next = 0
    private var filled = 0

    init(capacity: Int = 4096) {
        precondition(capacity > 0)
        samples = [UInt64](repeating: 0, count: capacity)
    }

    mutating func record(microseconds: UInt64) {
        samples[next] = microseconds
        next = (next + 1) % samples.count
        filled = min(filled + 1, samples.count)
    }

    mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        record(microseconds: UInt64(max(0, seconds)) * 1_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000_000)
    }

    /// Percentiles by the nearest-rank rule over the window.
    var summary: Medley_V1_LatencySummary {
        var summary = Medley_V1_LatencySummary()
        guard filled > 0 else { return summary }
        let sorted = samples.prefix(filled).sorted()
        func percentile(_ p: Double) -> UInt64 {
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return sorted[min(max(rank, 1), sorted.count) - 1]
        }
        summary.count = UInt64(filled)
        summary.p50Us = percentile(0.50)
        summary.p90Us = percentile(0.90)
        summary.p99Us = percentile(0.99)
        summary.p999Us = percentile(0.999)
        summary.maxUs = sorted.last!
        return summary
    }
}
