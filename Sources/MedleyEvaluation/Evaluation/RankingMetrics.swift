import Foundation

/// The rank rule and the metrics computed from it, as design.md states them: the rank of
/// the target is the number of candidates scored above it plus half the number tied with
/// it (0-based: 0 is the top); a NaN score ranks below every number.
public enum RankingMetrics {
    /// The target's rank among the candidate items `candidates`, leaving out `excluded` items
    /// (the target itself is never left out; out-of-range and repeated exclusions are ignored).
    public static func rank(of target: Int, scores: [Float], candidates: Range<Int>, excluded: some Collection<Int> = [Int]()) -> Double {
        precondition(candidates.contains(target), "the target must be a candidate")
        precondition(candidates.upperBound <= scores.count, "a score for every candidate")
        let t = ordered(scores[target])
        var above = 0
        var tied = 0
        scores.withUnsafeBufferPointer { s in
            for i in candidates {
                let v = ordered(s[i])
                if v > t { above += 1 } else if v == t { tied += 1 }
            }
        }
        tied -= 1  // the target itself
        if !excluded.isEmpty {
            for i in Set(excluded) where i != target && candidates.contains(i) {
                let v = ordered(scores[i])
                if v > t { above -= 1 } else if v == t { tied -= 1 }
            }
        }
        return Double(above) + Double(tied) / 2
    }

    /// NaN becomes -infinity, so that a broken score never looks good.
    @inline(__always)
    private static func ordered(_ score: Float) -> Float {
        score.isNaN ? -.infinity : score
    }

    /// 1 when the target is in the top `k` (rank < k), else 0.
    public static func hitRate(rank: Double, k: Int) -> Double {
        rank < Double(k) ? 1 : 0
    }

    /// 1 / log2(rank + 2) when rank < k, else 0 (one relevant item, so the ideal DCG is 1).
    public static func ndcg(rank: Double, k: Int) -> Double {
        rank < Double(k) ? 1 / log2(rank + 2) : 0
    }

    /// 1 / (rank + 1) when rank < k, else 0.
    public static func reciprocalRank(rank: Double, k: Int) -> Double {
        rank < Double(k) ? 1 / (rank + 1) : 0
    }
}

/// Sums of HR@K, NDCG@K and MRR@K over targets, for a set of cutoffs; merged across threads.
public struct MetricAccumulator: Sendable, Equatable {
    /// The cutoffs K.
    public let cutoffs: [Int]
    /// The number of targets added.
    public private(set) var count = 0
    private var hits: [Double]
    private var ndcgs: [Double]
    private var reciprocalRanks: [Double]

    public init(cutoffs: [Int]) {
        self.cutoffs = cutoffs
        hits = Array(repeating: 0, count: cutoffs.count)
        ndcgs = hits
        reciprocalRanks = hits
    }

    /// Adds one target's rank.
    public mutating func add(rank: Double) {
        count += 1
        for (i, k) in cutoffs.enumerated() {
            hits[i] += RankingMetrics.hitRate(rank: rank, k: k)
            ndcgs[i] += RankingMetrics.ndcg(rank: rank, k: k)
            reciprocalRanks[i] += RankingMetrics.reciprocalRank(rank: rank, k: k)
        }
    }

    /// Adds another accumulator's targets (same cutoffs).
    public mutating func merge(_ other: MetricAccumulator) {
        precondition(cutoffs == other.cutoffs, "merging accumulators with different cutoffs")
        count += other.count
        for i in cutoffs.indices {
            hits[i] += other.hits[i]
            ndcgs[i] += other.ndcgs[i]
            reciprocalRanks[i] += other.reciprocalRanks[i]
        }
    }

    /// The means, keyed `HR@K`, `NDCG@K`, `MRR@K`; empty when no target was added.
    public var means: [String: Double] {
        guard count > 0 else { return [:] }
        var result: [String: Double] = [:]
        let n = Double(count)
        for (i, k) in cutoffs.enumerated() {
            result["HR@\(k)"] = hits[i] / n
            result["NDCG@\(k)"] = ndcgs[i] / n
            result["MRR@\(k)"] = reciprocalRanks[i] / n
        }
        return result
    }
}
