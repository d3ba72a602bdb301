import Foundation
import MedleyModel
import MedleySystem

/// How the trainer learns the sequential rules it blends into the session head
/// (``SequentialRulesTable``) and fits their depth and weight.
///
/// The rules come from the training examples' sessions only. The depth, weight and repeat bias
/// are the choice of ``depths`` × ``weights`` × ``repeatBiases`` whose blend gives the best
/// session-head NDCG@``cutoff`` on the validation examples (at most ``maxFitExamples`` of them,
/// evenly spread; among equals the smallest depth, then the smallest weight, then the repeat
/// bias nearest 0); weight and bias 0 when neither helps, and then the model is written without
/// the blend.
public struct SequentialRulesBlend: Sendable, Equatable {
    /// The largest distance between two items of a session that makes a rule (SR's 10).
    public var steps: Int
    /// The strongest rules kept per item.
    public var rulesPerItem: Int
    /// The weights tried; rule strengths are at most 1, so 16 lets the rules order the items
    /// they know ahead of nearly any model score.
    public var weights: [Float]
    /// The depths tried: how many of the user's newest items the rules start from
    /// (``SequentialRulesTable/depth``).
    public var depths: [Int]
    /// The repeat biases tried (``SequentialRulesTable/repeatBias``): from about as large as a
    /// trained model's score range (an item the input holds drops out of the list, as with
    /// ratings, where an item is rated once) to a lift (as with songs played again).
    public var repeatBiases: [Float]
    public var cutoff: Int
    public var maxFitExamples: Int

    public init(steps: Int = 10, rulesPerItem: Int = 50, weights: [Float] = [0, 0.25, 0.5, 1, 2, 4, 8, 16],
                depths: [Int] = [1, 2, 3, 5, 10], repeatBiases: [Float] = [-32, -16, -8, -4, -2, -1, -0.5, 0, 0.5, 1, 2, 4],
                cutoff: Int = 10, maxFitExamples: Int = 10_000) {
        self.steps = steps
        self.rulesPerItem = rulesPerItem
        self.weights = weights
        self.depths = depths
        self.repeatBiases = repeatBiases
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
        guard !depths.isEmpty, depths.allSatisfy({ (1...SequentialRulesTable.maxDepth).contains($0) }) else {
            throw bad("depths must be in 1...\(SequentialRulesTable.maxDepth), and at least one")
        }
        guard !repeatBiases.isEmpty, repeatBiases.allSatisfy(\.isFinite) else {
            throw bad("repeat biases must be finite, and at least one")
        }
        guard Set(weights).count == weights.count, Set(depths).count == depths.count,
              Set(repeatBiases).count == repeatBiases.count else {
            throw bad("weights, depths and repeat biases must not repeat")
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

    /// The session head's NDCG@cutoff on `examples` for each choice of ``depths`` × ``weights`` ×
    /// ``repeatBiases``; ranks count items scored above the target plus half those tied, as the
    /// validation figures do.
    ///
    /// A blend changes only the items it adds to, so each choice's rank comes from the model's
    /// scores sorted once per example: the items above the target's blended score among all
    /// model scores (two binary searches), corrected for the changed items' old and new scores.
    func fit(_ table: SequentialRulesTable, data: TrainingData, network: Network, parameters: ModelParameters,
             examples all: [TrainingExample], threads: Int, cores: Int) -> [RulesChoice: Double] {
        let pairs = weights.flatMap { weight in repeatBiases.map { (weight: weight, repeatBias: $0) } }
        let examples = ExampleSums.evenlySpread(all, atMost: maxFitExamples)
        guard !examples.isEmpty else { return [:] }
        let d = network.configuration.embeddingDimension
        let n = data.catalog.count
        let embeddings = parameters[ParameterLayout.itemEmbedding].scalars
        let biases = parameters[ParameterLayout.itemBias].scalars
        let k = Double(cutoff)
        let sums = ExampleSums.sums(over: examples, count: depths.count * pairs.count, threads: threads, cores: cores) { share, sums in
            var scores = [Float](repeating: 0, count: n)
            for example in share {
                let input = data.encodedInput(example)
                let query = network.forward(input, parameters: parameters).sessionQuery
                Self.modelScores(query: query, embeddings: embeddings, biases: biases, dimension: d, into: &scores)
                let sorted = scores.sorted()
                let target = data.target(example).row
                let repeated = SequentialRulesTable.repeatRows(for: input)
                for (depthIndex, depth) in depths.enumerated() {
                    let additions = SequentialRulesTable.merge(boosts: table.boosts(for: input, depth: depth), repeated: repeated)
                    let targetAddition = additions.first { $0.row == target }
                    for (p, pair) in pairs.enumerated() {
                        let targetScore = targetAddition?.blended(scores[target], weight: pair.weight, repeatBias: pair.repeatBias)
                            ?? scores[target]
                        var above = sorted.count - sorted.partitioningIndex { $0 > targetScore }
                        var tied = sorted.count - above - sorted.partitioningIndex { $0 >= targetScore }
                        for addition in additions {
                            let old = scores[addition.row]
                            let new = addition.blended(old, weight: pair.weight, repeatBias: pair.repeatBias)
                            if old > targetScore { above -= 1 } else if old == targetScore { tied -= 1 }
                            if new > targetScore { above += 1 } else if new == targetScore { tied += 1 }
                        }
                        let rank = TargetRank.rank(above: above, tiedIncludingTarget: tied)
                        if rank < k { sums[depthIndex * pairs.count + p] += 1 / log2(rank + 2) }
                    }
                }
            }
        }
        var ndcg: [RulesChoice: Double] = [:]
        for (depthIndex, depth) in depths.enumerated() {
            for (p, pair) in pairs.enumerated() {
                let c = depthIndex * pairs.count + p
                ndcg[RulesChoice(depth: depth, weight: pair.weight, repeatBias: pair.repeatBias)] =
                    sums[c] / Double(examples.count)
            }
        }
        return ndcg
    }

    /// The session head's score of every item for one session query, before any blend:
    /// `q · e_i + b_i` (the scoring kernel, then the biases).
    static func modelScores(query: [Float], embeddings: [Float], biases: [Float], dimension d: Int, into scores: inout [Float]) {
        let n = biases.count
        precondition(scores.count == n && embeddings.count == n * d && query.count == d, "sizes disagree")
        embeddings.withUnsafeBufferPointer { e in
            query.withUnsafeBufferPointer { q in
                scores.withUnsafeMutableBufferPointer { o in
                    ScoringKernels.scores(backend: .automatic, queries: q, queryCount: 1, items: e, itemCount: n, dimension: d, into: o)
                }
            }
        }
        for i in 0..<n { scores[i] += biases[i] }
    }

    /// The best of `ndcg`'s choices: the highest NDCG, among equals the smallest depth, then the
    /// smallest weight, then the repeat bias nearest 0 (so that rules that do not help stay out,
    /// and a deeper blend or a bias must earn its place).
    static func best(_ ndcg: [RulesChoice: Double]) -> RulesChoice? {
        ndcg.keys.sorted().max { ndcg[$0]! < ndcg[$1]! }
    }
}

/// One depth, weight and repeat bias of the sequential rules' blend.
public struct RulesChoice: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var depth: Int
    public var weight: Float
    public var repeatBias: Float

    public init(depth: Int, weight: Float, repeatBias: Float = 0) {
        self.depth = depth
        self.weight = weight
        self.repeatBias = repeatBias
    }

    /// Smaller depth first, then smaller weight, then the repeat bias nearer 0 (a negative one
    /// before the positive one of the same size).
    public static func < (a: RulesChoice, b: RulesChoice) -> Bool {
        (a.depth, a.weight, abs(a.repeatBias), a.repeatBias) < (b.depth, b.weight, abs(b.repeatBias), b.repeatBias)
    }

    public var description: String { "depth \(depth), weight \(weight), repeat bias \(repeatBias)" }
}
