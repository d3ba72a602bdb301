import Testing
@testable import MedleyModel
@testable import MedleySystem

@Suite struct IVFIndexTests {
    /// Random rows, or rows around a few centres when `clusters` is set.
    static func table(rows: Int, dimension d: Int, clusters: Int? = nil, seed: UInt64 = 5) -> (embeddings: [Float], biases: [Float]) {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<((clusters ?? 0) * d)).map { _ in rng.nextFloat(in: -1...1) }
        var embeddings = [Float](repeating: 0, count: rows * d)
        for r in 0..<rows {
            let centre = clusters.map { Int(rng.next() % UInt64($0)) }
            for k in 0..<d {
                let base = centre.map { centres[$0 * d + k] } ?? 0
                embeddings[r * d + k] = base + rng.nextFloat(in: -1...1) * (clusters == nil ? 1 : 0.1)
            }
        }
        let biases = (0..<rows).map { _ in rng.nextFloat(in: -0.05...0.05) }
        return (embeddings, biases)
    }

    static func exact(_ query: [Float], _ t: (embeddings: [Float], biases: [Float]), rows: Range<Int>, d: Int, k: Int) -> [ScoredItem] {
        let scores = rows.map { row in
            t.embeddings.withUnsafeBufferPointer { e in
                query.withUnsafeBufferPointer { ScoringKernels.dot($0.baseAddress!, e.baseAddress! + row * d, d) }
            } + t.biases[row]
        }
        return bruteForceTopK(scores: scores, firstIndex: rows.lowerBound, k: k)
    }

    @Test func everyRowOfTheBlockIsInExactlyOneList() {
        let t = Self.table(rows: 3_000, dimension: 8)
        let index = IVFIndex(embeddings: t.embeddings, biases: t.biases, rows: 500..<2_700, dimension: 8)
        #expect(index.listCount == IVFIndex.defaultListCount(forRows: 2_200))
        #expect(index.rowsByList.flatMap { $0 }.sorted() == Array(500..<2_700))
    }

    @Test func probingEveryListGivesTheExactList() {
        let d = 8
        let t = Self.table(rows: 2_000, dimension: d)
        let rows = 100..<1_900
        let index = IVFIndex(embeddings: t.embeddings, biases: t.biases, rows: rows, dimension: d, listCount: 30)
        var rng = SplitMix64(seed: 8)
        let queries = (0..<(3 * d)).map { _ in rng.nextFloat(in: -1...1) }
        var accumulators = (0..<3).map { _ in TopKAccumulator(capacity: 10) }
        let excluded: [Set<Int>] = [[], [150, 151], []]
        index.offer(queries: queries, queryCount: 3, probes: 30, into: &accumulators, excluding: excluded)
        for b in 0..<3 {
            let query = Array(queries[(b * d)..<((b + 1) * d)])
            var want = Self.exact(query, t, rows: rows, d: d, k: 12).filter { !excluded[b].contains($0.index) }
            want = Array(want.prefix(10))
            let got = accumulators[b].sorted().map { Recommendation(item: ItemReference(domain: "x", id: "\($0.index)"), row: $0.index, score: $0.score) }
            #expect(matchesExactRanking(got, want), "query \(b)")
            #expect(got.allSatisfy { !excluded[b].contains($0.row) })
        }
    }

    /// int8 lists probed in full: the candidates their approximate scores pick, re-scored,
    /// give the exact list with float32 scores; excluded rows stay out, the best rows too.
    @Test func int8ListsProbedInFullGiveTheExactList() {
        let d = 8
        let t = Self.table(rows: 2_000, dimension: d)
        let rows = 100..<1_900
        let index = IVFIndex(embeddings: t.embeddings, biases: t.biases, rows: rows, dimension: d, listCount: 30, precision: .int8)
        #expect(index.listPrecision == .int8)
        #expect(IVFIndex(embeddings: t.embeddings, biases: t.biases, rows: rows, dimension: d, listCount: 30).listPrecision == .float32)
        var rng = SplitMix64(seed: 8)
        let queries = (0..<(3 * d)).map { _ in rng.nextFloat(in: -1...1) }
        let best = Self.exact(Array(queries[d..<(2 * d)]), t, rows: rows, d: d, k: 2).map(\.index)
        let excluded: [Set<Int>] = [[], Set(best), [150, 151]]
        var accumulators = (0..<3).map { _ in TopKAccumulator(capacity: 10) }
        index.offer(queries: queries, queryCount: 3, probes: 30, into: &accumulators, excluding: excluded)
        for b in 0..<3 {
            let query = Array(queries[(b * d)..<((b + 1) * d)])
            let want = Array(Self.exact(query, t, rows: rows, d: d, k: 12).filter { !excluded[b].contains($0.index) }.prefix(10))
            let got = accumulators[b].sorted().map { Recommendation(item: ItemReference(domain: "x", id: "\($0.index)"), row: $0.index, score: $0.score) }
            #expect(matchesExactRanking(got, want), "query \(b)")
            #expect(got.allSatisfy { !excluded[b].contains($0.row) })
        }
    }

    @Test(arguments: [ItemPrecision.float32, .int8])
    func clusteredItemsAreFoundProbingFewLists(precision: ItemPrecision) {
        let d = 16
        let t = Self.table(rows: 8_000, dimension: d, clusters: 20)
        let index = IVFIndex(embeddings: t.embeddings, biases: t.biases, rows: 0..<8_000, dimension: d, precision: precision)
        var rng = SplitMix64(seed: 4)
        var found = 0, wanted = 0
        for _ in 0..<50 {
            let query = (0..<d).map { _ in rng.nextFloat(in: -1...1) }
            var accumulator = [TopKAccumulator(capacity: 10)]
            // 8 of ~89 lists: about a tenth of the rows scored.
            index.offer(queries: query, queryCount: 1, probes: 8, into: &accumulator)
            let exact = Set(Self.exact(query, t, rows: 0..<8_000, d: d, k: 10).map(\.index))
            found += exact.intersection(accumulator[0].sorted().map(\.index)).count
            wanted += exact.count
            // What it returns carries the float32 score of its row (int8 lists' candidates re-scored).
            for item in accumulator[0].sorted() {
                let score = Self.exact(query, t, rows: item.index..<(item.index + 1), d: d, k: 1)[0].score
                #expect(abs(item.score - score) <= 1e-5 * max(1, abs(score)))
            }
        }
        #expect(Double(found) / Double(wanted) >= 0.9, "recall@10 \(Double(found) / Double(wanted))")
    }

    /// Through the model: an indexed domain probed in full gives the exact lists; domains
    /// below the minimum size are scored exactly.
    @Test(arguments: [ItemPrecision.float32, .int8])
    func aModelWithTheIndexProbedInFullGivesTheExactLists(precision: ItemPrecision) throws {
        let exactModel = try Fixtures.catalogueModel(itemsPerDomain: [IVFIndex.minimumBlockRows, 900, 1_500], dimension: 8)
        let indexed = try MultitaskModel(exactModel.contents, itemPrecision: precision, index: .ivf(probes: 100_000))
        let inputs = try Fixtures.randomInputs(4, model: exactModel, seed: 12)
        let options = RecommendationOptions(perDomain: 10, session: 10, blended: 10)
        for (input, (e, i)) in zip(inputs, zip(exactModel.recommend(inputs, options: options), indexed.recommend(inputs, options: options))) {
            let pass = exactModel.forward(input)
            for t in 0..<3 {
                let exact = Fixtures.exactTopK(model: exactModel, query: pass.domainQuery(t), rows: exactModel.catalog.domainRanges[t],
                                               k: 10, excluding: input.excludedRows)
                #expect(matchesExactRanking(i.perDomain[t], exact), "domain \(t)")
                #expect(matchesExactRanking(e.perDomain[t], exact), "domain \(t), exact model")
            }
            let exactSession = Fixtures.exactTopK(model: exactModel, query: pass.sessionQuery, rows: 0..<exactModel.catalog.count,
                                                  k: 10, excluding: input.excludedRows)
            #expect(matchesExactRanking(i.session, exactSession))
        }
    }

    /// With a smaller minimum, smaller domains get an index (approximate lists at one probe);
    /// a domain below it is still scored exactly.
    @Test func theMinimumDomainSizeIsTheOneAskedFor() throws {
        let exactModel = try Fixtures.catalogueModel(itemsPerDomain: [900, 1_500, 300], dimension: 8)
        let onePerQuery = try MultitaskModel(exactModel.contents, index: .ivf(probes: 1, minimumBlockRows: 500))
        let byDefault = try MultitaskModel(exactModel.contents, index: .ivf(probes: 1))
        let inputs = try Fixtures.randomInputs(8, model: exactModel, seed: 13)
        let options = RecommendationOptions(perDomain: 10, session: 10, blended: 10)
        let exact = exactModel.recommend(inputs, options: options)
        let approximate = onePerQuery.recommend(inputs, options: options)
        let unindexed = byDefault.recommend(inputs, options: options)
        for t in 0..<3 {
            let differing = zip(exact, approximate).filter { $0.perDomain[t].map(\.row) != $1.perDomain[t].map(\.row) }.count
            // One list of about 30 (or 39): the ten best are rarely all in it.
            #expect(t == 2 ? differing == 0 : differing > 0, "domain \(t): \(differing) of 8 lists differ")
            #expect(zip(exact, unindexed).allSatisfy { $0.perDomain[t].map(\.row) == $1.perDomain[t].map(\.row) }, "domain \(t)")
        }
        #expect(ItemIndexKind.ivf(probes: 3, minimumBlockRows: 500).description == "ivf (3 probes, domains of at least 500 items)")
    }
}
