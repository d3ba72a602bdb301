import MedleyEvaluation
import Testing
@testable import MedleyTraining

@Suite struct TargetRankTests {
    /// The trainer's rank rule is the evaluation's: above plus half the ties, the target not
    /// counted, on scores with ties on both sides of the target and at it.
    @Test func theRankIsTheEvaluationsRank() {
        let scores: [Float] = [0.5, 2, 1, 1, 3, 1, -1, 2]
        for target in scores.indices {
            let rank = TargetRank.rank(of: scores[target], among: scores)
            #expect(rank == RankingMetrics.rank(of: target, scores: scores, candidates: scores.indices), "target \(target)")
        }
        #expect(TargetRank.rank(of: 1, among: scores) == 3 + 2.0 / 2)
        #expect(TargetRank.rank(above: 0, tiedIncludingTarget: 1) == 0)
    }
}
