import Foundation
import MedleyEvaluation
import MedleyTraining
import Testing

@Suite struct RankingMetricsTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    @Test func tiesCountHalf() {
        //               0    1    2    3    4    5
        let scores: [Float] = [0.9, 0.5, 0.5, 0.5, 0.1, 0.7]
        // Target 1: above are 0 and 5 (2), tied are 2 and 3 (2) → 2 + 2/2 = 3.
        #expect(RankingMetrics.rank(of: 1, scores: scores, candidates: 0..<6) == 3)
        #expect(RankingMetrics.rank(of: 0, scores: scores, candidates: 0..<6) == 0)
        #expect(RankingMetrics.rank(of: 4, scores: scores, candidates: 0..<6) == 5)
        // All tied: the middle of n items, (n - 1) / 2.
        #expect(RankingMetrics.rank(of: 2, scores: [Float](repeating: 1, count: 5), candidates: 0..<5) == 2)
    }

    @Test func exclusionsAndCandidateRanges() {
        let scores: [Float] = [0.9, 0.5, 0.5, 0.5, 0.1, 0.7]
        // Excluding 0 (above) and 2 (tied), repeated, and the target itself (never excluded).
        #expect(RankingMetrics.rank(of: 1, scores: scores, candidates: 0..<6, excluded: [0, 2, 2, 1]) == 1.5)
        // Only items 1..<4 are candidates; 0 and 5 are outside and exclusions outside are ignored.
        #expect(RankingMetrics.rank(of: 1, scores: scores, candidates: 1..<4, excluded: [5]) == 1)
    }

    @Test func nanRanksLast() {
        let scores: [Float] = [.nan, 0.2, 0.1]
        #expect(RankingMetrics.rank(of: 0, scores: scores, candidates: 0..<3) == 2)
        #expect(RankingMetrics.rank(of: 2, scores: scores, candidates: 0..<3) == 1)
    }

    @Test func metricArithmetic() {
        #expect(RankingMetrics.hitRate(rank: 9.5, k: 10) == 1)
        #expect(RankingMetrics.hitRate(rank: 10, k: 10) == 0)
        #expect(close(RankingMetrics.ndcg(rank: 0, k: 10), 1))
        #expect(close(RankingMetrics.ndcg(rank: 2, k: 10), 0.5))          // 1 / log2(4)
        #expect(close(RankingMetrics.ndcg(rank: 9.5, k: 10), 1 / log2(11.5)))
        #expect(RankingMetrics.ndcg(rank: 10, k: 10) == 0)
        #expect(close(RankingMetrics.reciprocalRank(rank: 1.5, k: 10), 0.4))
        #expect(RankingMetrics.reciprocalRank(rank: 12, k: 10) == 0)
    }

    @Test func accumulatorAveragesAndMerges() {
        var a = MetricAccumulator(cutoffs: [1, 10])
        a.add(rank: 0)
        a.add(rank: 2)
        var b = MetricAccumulator(cutoffs: [1, 10])
        b.add(rank: 30)
        a.merge(b)
        let m = a.means
        #expect(a.count == 3)
        #expect(close(m["HR@1"]!, 1.0 / 3))
        #expect(close(m["HR@10"]!, 2.0 / 3))
        #expect(close(m["NDCG@10"]!, 1.5 / 3))
        #expect(close(m["MRR@10"]!, (1 + 1.0 / 3) / 3))
        #expect(MetricAccumulator(cutoffs: [10]).means.isEmpty)
    }

    @Test func reportRendersAndRoundTrips() throws {
        let report = EvaluationReport(
            title: "t", conditions: ["data set": "hand"], cutoffs: [10],
            rows: [.init(method: "popularity", variant: "all items", segment: "all", targets: 3,
                         metrics: ["HR@10": 0.5, "NDCG@10": 0.25], seconds: 1.25)])
        let table = report.table()
        #expect(table.contains("method      variant    segment  targets   HR@10  NDCG@10  MRR@10  seconds"))
        #expect(table.contains("popularity  all items  all            3  0.5000   0.2500       -      1.2"))
        #expect(try EvaluationReport.decode(report.json()) == report)
    }
}
