import MedleySystem
import Testing
@testable import MedleyModel

@Suite struct ReducedPrecisionTests {
    @Test func bfloat16RoundsToNearestAndExpandsExactly() {
        let values: [Float] = [1, -2.5, 0, 3.1415927, -1e-3, 65504, 1.00390625 /* 1 + 2⁻⁸: a tie, to even */, 1.01171875]
        let table = BFloat16Table(values, dimension: 8)
        #expect(table.values[0] == 0x3F80)
        #expect(table.values[6] == 0x3F80)  // the tie rounds to the even neighbour, 1
        #expect(table.values[7] == 0x3F82)  // 1 + 3·2⁻⁸ rounds up to 1 + 2⁻⁶
        var expanded = [Float](repeating: .nan, count: 8)
        expanded.withUnsafeMutableBufferPointer { table.expand(rows: 0, count: 1, into: $0) }
        #expect(Array(expanded[0..<3]) == [1, -2.5, 0])
        for (x, y) in zip(values, expanded) {
            #expect(abs(x - y) <= abs(x) / 256, "\(x) became \(y)")
        }
    }

    @Test func expandingAnyRowsGivesTheRoundedValues() {
        // 3 rows of 11: the SIMD body and the scalar tail both run.
        let values = (0..<33).map { Float($0) * 0.37 - 5 }
        let table = BFloat16Table(values, dimension: 11)
        var out = [Float](repeating: 0, count: 22)
        out.withUnsafeMutableBufferPointer { table.expand(rows: 1, count: 2, into: $0) }
        for i in 0..<22 {
            #expect(out[i].bitPattern == UInt32(BFloat16Table.bfloat16(values[11 + i])) << 16)
        }
    }

    /// Lists from a reduced table, re-scored in float32, equal the exact float32 lists and
    /// carry exact scores; the last batch size is two queries per request beyond the int8
    /// pass's limit.
    @Test(arguments: [ItemPrecision.bfloat16, .int8], [1, 3, 5, ItemScorer.int8QueryLimit / 2 + 1])
    func listsEqualTheExactListsWithExactScores(precision: ItemPrecision, batchSize: Int) throws {
        let exactModel = try Fixtures.catalogueModel(itemsPerDomain: [5_000, 1_200, 2_500], dimension: 16)
        let reducedModel = try MultitaskModel(exactModel.contents, itemPrecision: precision)
        let inputs = try Fixtures.randomInputs(20, model: exactModel, seed: 9)
        let options = RecommendationOptions(perDomain: 10, session: 10, blended: 10)
        for start in stride(from: 0, to: inputs.count, by: batchSize) {
            let batch = Array(inputs[start..<min(inputs.count, start + batchSize)])
            let exact = exactModel.recommend(batch, options: options)
            let reduced = reducedModel.recommend(batch, options: options)
            // The queries the batch was scored with (the batched forward pass rounds differently
            // from the per-example one, so the scores are compared with these).
            let passes = exactModel.forward(batch: batch)
            for (b, (input, (e, r))) in zip(batch, zip(exact, reduced)).enumerated() {
                for t in 0..<3 {
                    #expect(r.perDomain[t].map(\.row) == e.perDomain[t].map(\.row), "domain \(t)")
                    let exactTop = Fixtures.exactTopK(model: exactModel, query: passes.domainQuery(t, b),
                                                      rows: exactModel.catalog.domainRanges[t], k: 10, excluding: input.excludedRows)
                    if precision == .int8 && 2 * batch.count > ItemScorer.int8QueryLimit {
                        // Scored from the float32 table, as the exact model scores.
                        #expect(r.perDomain[t].map(\.score) == e.perDomain[t].map(\.score))
                    } else {
                        // Re-scored with the same float32 dot product: the very same scores.
                        #expect(r.perDomain[t].map(\.score) == exactTop.map(\.score))
                    }
                }
                #expect(r.session.map(\.row) == e.session.map(\.row))
                #expect(r.blended.map(\.row) == e.blended.map(\.row))
            }
        }
    }

    /// The int8 pass chooses the candidates up to its query limit, and the float32 table is
    /// read beyond it: row 0 is the best item in float32 but zero in the int8 copy, below the
    /// 33 candidates of a one-item list, so only the float32 pass returns it.
    @Test func theInt8PassDecidesTheCandidatesUpToItsQueryLimit() {
        let (rows, d) = (100, 8)
        var embeddings = (0..<(rows * d)).map { Float(($0 * 13) % 7) / 10 + 0.1 }
        for j in 0..<d { embeddings[j] = 5 }
        var copied = embeddings
        for j in 0..<d { copied[j] = 0 }
        let reduced = ReducedItemTable.int8(Int8Table(copied, dimension: d))
        let biases = [Float](repeating: 0, count: rows)
        let scorer = ItemScorer()
        for queryCount in [1, ItemScorer.int8QueryLimit, ItemScorer.int8QueryLimit + 1] {
            let queries = [Float](repeating: 1, count: queryCount * d)
            var lists = (0..<queryCount).map { _ in TopKAccumulator(capacity: 1) }
            scorer.offer(queries: queries, queryCount: queryCount, dimension: d, reduced: reduced, embeddings: embeddings,
                         biases: biases, rows: 0..<rows, into: &lists)
            let best = lists.map { $0.sorted()[0] }
            if queryCount <= ItemScorer.int8QueryLimit {
                #expect(best.allSatisfy { $0.index != 0 }, "\(queryCount) queries")
                // The candidate's score is the exact float32 one.
                let exact = embeddings.withUnsafeBufferPointer { e in
                    queries.withUnsafeBufferPointer { ScoringKernels.dot($0.baseAddress!, e.baseAddress! + best[0].index * d, d) }
                }
                #expect(best[0].score == exact)
            } else {
                #expect(best.allSatisfy { $0.index == 0 && $0.score == 40 }, "\(queryCount) queries")
            }
        }
    }

    /// A catalogue whose int8 lists keep needing retries under the narrow margin (rows alike
    /// in int8) has it widened after the sample; one whose lists clear their checks (random
    /// rows) keeps it. The lists equal the float32 top k throughout.
    @Test(arguments: [true, false])
    func theMarginWidensOnlyWhereListsNeedRetries(alike: Bool) {
        let (rows, d, k, queryCount) = (600, 8, 10, 200)
        var rng = SplitMix64(seed: alike ? 3 : 4)
        let base = (0..<d).map { _ in rng.nextFloat(in: 0.5...1) }
        let embeddings = (0..<(rows * d)).map { i in
            alike ? base[i % d] + Float((i * 7_919) % 997) * 1e-7 : rng.nextFloat(in: -1...1)
        }
        let biases = [Float](repeating: 0, count: rows)
        let reduced = ReducedItemTable.int8(Int8Table(embeddings, dimension: d))
        let scorer = ItemScorer()
        #expect(!scorer.int8Margin.isWide)
        for call in 0..<(Int8CandidateMargin.sampleLists / queryCount + 1) {
            let queries = (0..<(queryCount * d)).map { _ in rng.nextFloat(in: -1...1) }
            var lists = (0..<queryCount).map { _ in TopKAccumulator(capacity: k) }
            scorer.offer(queries: queries, queryCount: queryCount, dimension: d, reduced: reduced, embeddings: embeddings,
                         biases: biases, rows: 0..<rows, into: &lists)
            if call % 5 == 0 {
                for b in [0, queryCount - 1] {
                    #expect(lists[b].sorted() == Self.dotTopK(queries, query: b, embeddings: embeddings, biases: biases,
                                                              dimension: d, rows: 0..<rows, k: k, excluding: []))
                }
            }
        }
        #expect(scorer.int8Margin.isWide == alike)
        let share = Double(scorer.reducedCounts.listsRetried) / Double(scorer.reducedCounts.listsChecked)
        #expect(alike ? share > 0.5 : share < Int8CandidateMargin.wideningRetryShare, "\(share)")
    }

    @Test func candidateCountsLeaveAMargin() {
        #expect(Int8CandidateMargin.candidateCount(forListLength: 10, wide: false) == 26)
        #expect(Int8CandidateMargin.candidateCount(forListLength: 10, wide: true) == 42)
        #expect(Int8CandidateMargin.candidateCount(forListLength: 0, wide: false) == 0)
        #expect(ItemScorer.candidateCount(forListLength: 0) == 0)
        #expect(ItemScorer.candidateCount(forListLength: 1) == 33)
        #expect(ItemScorer.candidateCount(forListLength: 10) == 42)
        #expect(ItemScorer.candidateCount(forListLength: 100) == 400)
    }

    /// An int8 table's kernel reads whole blocks of rows, the rows a tile cuts from a block go
    /// through the portable loop: tiles after the first start on a block, wherever the domain
    /// starts, and together the tiles cover the rows once.
    @Test func tilesAfterTheFirstStartOnABlock() {
        let scorer = ItemScorer()
        let rows = 5..<5_000
        var accumulators = [TopKAccumulator(capacity: 1)]
        var tiles: [Range<Int>] = []
        scorer.scoreTiles(queryCount: 1, biases: [Float](repeating: 0, count: rows.upperBound), rows: rows, tileRows: 1_024,
                          alignment: 16, into: &accumulators, excluding: []) { start, n, out in
            tiles.append(start..<(start + n))
            for i in 0..<n { out[i] = 0 }
        }
        #expect(tiles.first?.lowerBound == rows.lowerBound && tiles.last?.upperBound == rows.upperBound)
        #expect(zip(tiles, tiles.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $1.lowerBound % 16 == 0 })
        #expect(tiles.allSatisfy { $0.count <= 1_024 })
    }

    /// The candidates' exact scores from every kernel this machine runs are the portable dot
    /// product plus bias to the bit, at dimensions on both sides of the vector widths.
    @Test(arguments: VectorKernel.available)
    func candidateScoresAreDotProductsPlusBias(kernel: VectorKernel) {
        var rng = SplitMix64(seed: 31)
        for dimension in [1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 130] {
            let rows = 300
            let table = (0..<(rows * dimension)).map { _ in rng.nextFloat(in: -1...1) }
            let biases = (0..<rows).map { _ in rng.nextFloat(in: -2...2) }
            let query = (0..<dimension).map { _ in rng.nextFloat(in: -1...1) }
            let candidates = (0..<50).map { _ in Int(rng.next() % UInt64(rows)) }
            var scores = [Float](repeating: .nan, count: candidates.count)
            table.withUnsafeBufferPointer { t in
                biases.withUnsafeBufferPointer { b in
                    query.withUnsafeBufferPointer { q in
                        candidates.withUnsafeBufferPointer { c in
                            scores.withUnsafeMutableBufferPointer { out in
                                ItemScorer.candidateScores(query: q.baseAddress!, embeddings: t.baseAddress!, dimension: dimension,
                                                           rows: c.baseAddress!, count: c.count, biases: b.baseAddress!,
                                                           into: out.baseAddress!, kernel: kernel)
                            }
                        }
                    }
                }
            }
            for (i, row) in candidates.enumerated() {
                let expected = table.withUnsafeBufferPointer { t in
                    query.withUnsafeBufferPointer { ScoringKernels.dot($0.baseAddress!, t.baseAddress! + row * dimension, dimension) }
                } + biases[row]
                #expect(scores[i].bitPattern == expected.bitPattern, "d \(dimension), candidate \(i): \(scores[i]) against \(expected)")
            }
        }
    }

    /// Items whose int8 copies are all alike but whose float32 scores differ: the approximate
    /// pass ranks them by rounding noise, so the best items by float32 lie outside the
    /// candidates, and only the check against the error bound (which sends the list to the
    /// float32 pass) returns the exact lists. The ties of the float32 scores are kept apart.
    @Test func int8ListsAreExactWhereTheCandidatesMissTheBestItems() {
        let (rows, d, k) = (400, 16, 10)
        var rng = SplitMix64(seed: 5)
        let base = (0..<d).map { _ in rng.nextFloat(in: 0.5...1) }
        // Each row is the base plus a perturbation far below a quantisation step (1/254 of 1).
        let embeddings = (0..<(rows * d)).map { base[$0 % d] + Float(($0 * 7_919) % 997) * 1e-7 }
        let biases = [Float](repeating: 0, count: rows)
        let reduced = ReducedItemTable.int8(Int8Table(embeddings, dimension: d))
        let scorer = ItemScorer()
        let queries = (0..<(3 * d)).map { _ in rng.nextFloat(in: -1...1) }
        let exclusions: [Set<Int>] = [[], [7, 100, 399], Set(0..<50)]
        var lists = (0..<3).map { _ in TopKAccumulator(capacity: k) }
        scorer.offer(queries: queries, queryCount: 3, dimension: d, reduced: reduced, embeddings: embeddings,
                     biases: biases, rows: 0..<rows, into: &lists, excluding: exclusions)
        for b in 0..<3 {
            let expected = Self.dotTopK(queries, query: b, embeddings: embeddings, biases: biases, dimension: d,
                                        rows: 0..<rows, k: k, excluding: exclusions[b])
            #expect(lists[b].sorted() == expected, "query \(b)")
        }
        #expect(scorer.reducedCounts.listsChecked == 3)
        // 400 alike rows are more than a retry's 168 candidates: the float32 pass decides.
        #expect(scorer.reducedCounts.listsRetried == 3)
        #expect(scorer.reducedCounts.listsScoredInFull == 3)
    }

    /// 60 rows alike in int8 but not in float32 over 340 rows scoring far below them: the 42
    /// candidates of a list of 10 are all alike, so the check fails; the retry's 168 hold all 60
    /// and some of the rest, which clears it without the float32 pass.
    @Test func aListThatFailsItsCheckIsRetriedWithMoreCandidates() {
        let (rows, d, k) = (400, 16, 10)
        var rng = SplitMix64(seed: 8)
        let base = (0..<d).map { _ in rng.nextFloat(in: 0.5...1) }
        let embeddings = (0..<(rows * d)).map { i in
            let row = i / d
            return row < 340 ? base[i % d] * -1 : base[i % d] + Float((i * 7_919) % 997) * 1e-7
        }
        let biases = [Float](repeating: 0, count: rows)
        let reduced = ReducedItemTable.int8(Int8Table(embeddings, dimension: d))
        let scorer = ItemScorer()
        let queries = base
        var lists = [TopKAccumulator(capacity: k)]
        scorer.offer(queries: queries, queryCount: 1, dimension: d, reduced: reduced, embeddings: embeddings,
                     biases: biases, rows: 0..<rows, into: &lists)
        #expect(lists[0].sorted() == Self.dotTopK(queries, query: 0, embeddings: embeddings, biases: biases, dimension: d,
                                                  rows: 0..<rows, k: k, excluding: []))
        #expect(lists[0].sorted().allSatisfy { $0.index >= 340 })
        #expect(scorer.reducedCounts.listsRetried == 1)
        #expect(scorer.reducedCounts.listsScoredInFull == 0)
    }

    /// On random tables of several dimensions and magnitudes, with biases, exclusions, lists of
    /// 1 to 60 items and ranges that cut blocks, every int8 list equals the float32 top k by the
    /// candidates' dot product, scores to the bit, whichever way its check went; and a list
    /// holding items from an earlier block keeps them.
    @Test(arguments: [3, 16, 64])
    func int8ListsEqualTheFloat32TopK(dimension d: Int) {
        var rng = SplitMix64(seed: UInt64(40 + d))
        let rows = 3_000
        let embeddings = (0..<(rows * d)).map { i in rng.nextFloat(in: -1...1) * Float(1 + (i / d) % 5) }
        let biases = (0..<rows).map { _ in rng.nextFloat(in: -1...1) }
        let reduced = ReducedItemTable.int8(Int8Table(embeddings, dimension: d))
        let scorer = ItemScorer()
        let ks = [1, 10, 25, 60]
        let queryCount = 8
        let queries = (0..<(queryCount * d)).map { _ in rng.nextFloat(in: -1...1) }
        let exclusions = (0..<queryCount).map { b in Set((0..<(b * 5)).map { _ in Int(rng.next() % UInt64(rows)) }) }
        var lists = (0..<queryCount).map { TopKAccumulator(capacity: ks[$0 % ks.count]) }
        for block in [0..<1_203, 1_203..<rows] {
            scorer.offer(queries: queries, queryCount: queryCount, dimension: d, reduced: reduced, embeddings: embeddings,
                         biases: biases, rows: block, into: &lists, excluding: exclusions)
        }
        for b in 0..<queryCount {
            let expected = Self.dotTopK(queries, query: b, embeddings: embeddings, biases: biases, dimension: d,
                                        rows: 0..<rows, k: ks[b % ks.count], excluding: exclusions[b])
            #expect(lists[b].sorted() == expected, "query \(b), k \(ks[b % ks.count])")
        }
        #expect(scorer.reducedCounts.listsChecked == 2 * queryCount)
    }

    /// A list filled by one block takes an item of the next whose int8 score is below the
    /// list's worst but whose float32 score is above it: the next block's candidates are cut
    /// the error bound below the worst, not at it. Row 1's first value, 1.003, is stored as
    /// 63 steps of 2.01 / 127 (0.99709), under row 0's 1.0.
    @Test func aFullListTakesAnItemWhoseApproximateScoreIsBelowItsWorst() {
        let embeddings: [Float] = [1, 0, 1.003, 2.01]
        let table = Int8Table(embeddings, dimension: 2)
        #expect(table.value(row: 1, dimension: 0) < 1)
        let scorer = ItemScorer()
        var lists = [TopKAccumulator(capacity: 1)]
        for block in [0..<1, 1..<2] {
            scorer.offer(queries: [1, 0], queryCount: 1, dimension: 2, reduced: .int8(table), embeddings: embeddings,
                         biases: [0, 0], rows: block, into: &lists)
        }
        #expect(lists[0].sorted() == [ScoredItem(index: 1, score: 1.003)])
    }

    /// A full list's floor for the next block's candidates lies below its worst by more than
    /// the bound, and is the largest float that does (one step up does not).
    @Test func aFullListsFloorLiesTheBoundBelowItsWorst() {
        for (worst, bound) in [(Float(1.5), 0.01), (-3.25, 0.2), (0, 1e-3), (1e30, 1e20), (0.1, 0)] {
            let floor = ItemScorer.passFloor(belowListsWorst: worst, bound: bound)
            let limit = Double(worst) - bound - 0x1p-20 * (abs(Double(worst)) + bound)
            #expect(Double(floor) <= limit, "\(worst), \(bound)")
            #expect(Double(floor.nextUp) > limit, "\(worst), \(bound)")
        }
        #expect(ItemScorer.passFloor(belowListsWorst: 1, bound: .infinity) == -.infinity)
        #expect(ItemScorer.passFloor(belowListsWorst: .infinity, bound: 1) == -.infinity)
    }

    /// The best `k` of `rows` for query `b` by ``ScoringKernels/dot(_:_:_:)`` plus bias.
    static func dotTopK(_ queries: [Float], query b: Int, embeddings: [Float], biases: [Float], dimension d: Int,
                        rows: Range<Int>, k: Int, excluding excluded: Set<Int>) -> [ScoredItem] {
        let scores = rows.map { r in
            embeddings.withUnsafeBufferPointer { e in
                queries.withUnsafeBufferPointer { ScoringKernels.dot($0.baseAddress! + b * d, e.baseAddress! + r * d, d) }
            } + biases[r]
        }
        return bruteForceTopK(scores: scores, firstIndex: rows.lowerBound, k: k, excluding: excluded)
    }
}
