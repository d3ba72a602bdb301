import Foundation
import MedleyModel

/// How the trainer chooses the share of the session head in the domain lists
/// (``DomainListBlend``, ``ModelFileContents/domainListSessionShare``).
///
/// The share is the one of ``shares`` whose domain lists give the best NDCG@``cutoff`` on the
/// validation examples (at most ``maxFitExamples`` of them, evenly spread), each example's
/// target ranked among its domain's items by that domain's list, as served: the mixed query's
/// scores, plus the share of the session blend's changes. Among equals the smallest share, so
/// that the domain head keeps its list unless the session head improves it. Fitted after the
/// sequential rules, whose blend the domain lists then take their share of.
public struct DomainListShareFit: Sendable, Equatable {
    /// The shares tried, in [0, 1].
    public var shares: [Float]
    public var cutoff: Int
    public var maxFitExamples: Int

    public init(shares: [Float] = (0...10).map { Float($0) / 10 }, cutoff: Int = 10, maxFitExamples: Int = 10_000) {
        self.shares = shares
        self.cutoff = cutoff
        self.maxFitExamples = maxFitExamples
    }

    func validate() throws(TrainingError) {
        func bad(_ reason: String) -> TrainingError { .invalidConfiguration("domainListShare", reason) }
        guard !shares.isEmpty, shares.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw bad("shares must be in [0, 1], and at least one") }
        guard Set(shares).count == shares.count else { throw bad("shares must not repeat") }
        guard cutoff >= 1, maxFitExamples >= 1 else { throw bad("cutoff and maxFitExamples must be at least 1") }
    }

    /// NDCG@cutoff of the domain lists on `examples` whose target's domain is in `domains`, for
    /// each share; ranks count the items scored above the target plus half those tied, as the
    /// validation figures do.
    func fit(model: MultitaskModel, data: TrainingData, examples all: [TrainingExample], domains: Set<Int>,
             threads: Int, cores: Int) -> [Float: Double] {
        let candidates = all.filter { domains.contains(data.target($0).domain) }
        let examples = ExampleSums.evenlySpread(candidates, atMost: maxFitExamples)
        guard !examples.isEmpty else { return [:] }
        let d = model.configuration.embeddingDimension
        let embeddings = model.parameters[ParameterLayout.itemEmbedding].scalars
        let biases = model.parameters[ParameterLayout.itemBias].scalars
        let rules = model.contents.sequentialRules
        let blends = shares.map { DomainListBlend(share: $0, rules: rules) }
        let sums = ExampleSums.sums(over: examples, count: shares.count, threads: threads, cores: cores) { share, sums in
            for example in share {
                let input = data.encodedInput(example)
                let pass = model.forward(input)
                let target = data.target(example)
                let rows = model.catalog.domainRanges[target.domain]
                let additions = rules?.additions(for: input) ?? []
                // Every share's query, scored over the block in one product.
                let queries = blends.flatMap {
                    $0.queries(domain: pass.domainQuery(target.domain), session: pass.sessionQuery, count: 1, dimension: d)
                }
                var scores = [Float](repeating: 0, count: blends.count * rows.count)
                queries.withUnsafeBufferPointer { q in
                    embeddings.withUnsafeBufferPointer { e in
                        scores.withUnsafeMutableBufferPointer { o in
                            ScoringKernels.scores(backend: model.scorer.backend, queries: q, queryCount: blends.count,
                                                  items: UnsafeBufferPointer(rebasing: e[(rows.lowerBound * d)..<(rows.upperBound * d)]),
                                                  itemCount: rows.count, dimension: d, into: o)
                        }
                    }
                }
                for (s, blend) in blends.enumerated() {
                    let offset = s * rows.count
                    for j in 0..<rows.count { scores[offset + j] += biases[rows.lowerBound + j] }
                    blend.blend(&scores, offset: offset, rows: rows, additions: additions)
                    let targetScore = scores[offset + target.row - rows.lowerBound]
                    let rank = TargetRank.rank(of: targetScore, among: scores[offset..<(offset + rows.count)])
                    if rank < Double(cutoff) { sums[s] += 1 / log2(rank + 2) }
                }
            }
        }
        var ndcg: [Float: Double] = [:]
        for (s, share) in shares.enumerated() {
            ndcg[share] = sums[s] / Double(examples.count)
        }
        return ndcg
    }

    /// The share with the highest NDCG; among equals the smallest.
    static func best(_ ndcg: [Float: Double]) -> Float? {
        ndcg.keys.sorted().max { ndcg[$0]! < ndcg[$1]! }
    }
}

/// How the domain lists' session share was chosen (``DomainListShareFit``).
public struct DomainListShareChoice: Sendable, Equatable {
    /// The share kept (0: the model is written without it).
    public var share: Float
    /// NDCG@cutoff of the domain lists on the validation examples for each share tried.
    public var ndcg: [Float: Double]
    public var cutoff: Int
}
