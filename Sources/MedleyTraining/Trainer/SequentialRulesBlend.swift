import Dispatch
import Foundation
import MedleyModel

/// How the trainer learns the sequential rules it blends into the session head
/// (``SequentialRulesTable``) and fits their weight.
///
/// The rules come from the training examples' sessions only. The weight is the one of
/// ``weights`` whose blend gives the best session-head NDCG@``cutoff`` on the validation
/// examples (at most ``maxFitExamples`` of them, evenly spread); 0 when the rules do not help,
/// and then the model is written without them.
public struct SequentialRulesBlend: Sendable, Equatable {
    /// The largest distance between two items of a session that makes a rule (SR's 10).
    public var steps: Int
    /// The strongest rules kept per item.
    public var rulesPerItem: Int
    /// The weights tried; rule strengths are at most 1, so 16 lets the rules order the items
    /// they know ahead of nearly any model score.
    public var weights: [Float]
    public var cutoff: Int
    public var maxFitExamples: Int

    public init(steps: Int = 10, rulesPerItem: Int = 50, weights: [Float] = [0, 0.25, 0.5, 1, 2, 4, 8, 16],
                cutoff: Int = 10, maxFitExamples: Int = 10_000) {
        self.steps = steps
        self.rulesPerItem = rulesPerItem
        self.weights = weights
        self.cutoff = cutoff
        self.maxFitExamples = maxFitExamples
    }

    func validate() throws(TrainingError) {
        func bad(_ reason: String) -> TrainingError { .invalidConfiguration("sequentialRules", reason) }
        guard steps >= 1 else { throw bad("steps must be at least 1") }
        guard rulesPerItem >= 1 else { throw bad("rulesPerItem must be at least 1") }
        guard !weights.isEmpty, weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw bad("weights must be finite, not negative, and at least one")
        }
        guard cutoff >= 1, maxFitExamples >= 1 else { throw bad("cutoff and maxFitExamples must be at least 1") }
    }

    /// The rules of the training examples' users: each user's events up to their last training
    /// target, in order, are one sequence (as the sequential-rules baseline counts them), and
    /// each training target j gains a rule from each earlier item of that sequence at a distance
    /// of at most ``steps``. A rule spans a session gap, as the rules' anchor (the user's newest
    /// item, ``SequentialRulesAnchor/newestItem``) does.
    func rules(_ data: TrainingData) -> SequentialRulesTable {
        var lastTarget: [Int32: Int] = [:]
        for example in data.trainingExamples {
            let t = Int(example.target), user = data.table.userRows[t]
            lastTarget[user] = max(lastTarget[user] ?? t, t)
        }
        let sequences = lastTarget.keys.sorted().map { user in
            (data.table.userRanges[Int(user)].lowerBound...lastTarget[user]!).map { Int(data.table.itemRows[$0]) }
        }
        return SequentialRulesTable(sessions: sequences, itemCount: data.catalog.count, steps: steps, rulesPerItem: rulesPerItem)
    }

    /// The session head's NDCG@cutoff on `examples` for each of ``weights``, the rules blended
    /// in with that weight; ranks count items scored above the target plus half those tied,
    /// as the validation figures do.
    func fit(_ table: SequentialRulesTable, data: TrainingData, network: Network, parameters: ModelParameters,
             examples all: [TrainingExample], threads: Int) -> [Float: Double] {
        let stride = max(1, (all.count + maxFitExamples - 1) / maxFitExamples)
        let examples = Swift.stride(from: 0, to: all.count, by: stride).map { all[$0] }
        guard !examples.isEmpty else { return [:] }
        let d = network.configuration.embeddingDimension
        let n = data.catalog.count
        let embeddings = parameters[ParameterLayout.itemEmbedding].scalars
        let biases = parameters[ParameterLayout.itemBias].scalars
        let k = Double(cutoff)
        let chunks = max(1, min(threads, examples.count))
        let per = (examples.count + chunks - 1) / chunks
        final class Sums: @unchecked Sendable {
            // Sound: each chunk writes only its own row.
            var values: [[Double]]
            init(_ chunks: Int, _ weights: Int) { values = Array(repeating: Array(repeating: 0, count: weights), count: chunks) }
        }
        let sums = Sums(chunks, weights.count)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var scores = [Float](repeating: 0, count: n)
            for example in examples[min(examples.count, chunk * per)..<min(examples.count, (chunk + 1) * per)] {
                let input = data.encodedInput(example)
                let query = network.forward(input, parameters: parameters).sessionQuery
                embeddings.withUnsafeBufferPointer { e in
                    query.withUnsafeBufferPointer { q in
                        scores.withUnsafeMutableBufferPointer { o in
                            ScoringKernels.scores(backend: .automatic, queries: q, queryCount: 1, items: e, itemCount: n,
                                                  dimension: d, into: o)
                        }
                    }
                }
                for i in 0..<n { scores[i] += biases[i] }
                let target = data.target(example).row
                let boosts = table.anchorRow(for: input).map { anchor in
                    table.rules(from: anchor).map { (Int(table.targets[$0]), table.strengths[$0]) }
                } ?? []
                for (w, weight) in weights.enumerated() {
                    var blended = scores
                    for (row, strength) in boosts { blended[row] += weight * strength }
                    let targetScore = blended[target]
                    var above = 0, tied = 0
                    for s in blended {
                        if s > targetScore { above += 1 } else if s == targetScore { tied += 1 }
                    }
                    let rank = Double(above) + Double(tied - 1) / 2
                    if rank < k { sums.values[chunk][w] += 1 / log2(rank + 2) }
                }
            }
        }
        return Dictionary(uniqueKeysWithValues: weights.enumerated().map { w, weight in
            (weight, sums.values.reduce(0) { $0 + $1[w] } / Double(examples.count))
        })
    }
}
