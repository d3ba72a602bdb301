import Testing
@testable import MedleyModel
@testable import MedleySystem

@Suite struct TopKTests {
    /// Every test of the pass runs with each kernel this machine runs (the portable loop, and
    /// the C kernels where the CPU has them).
    @Test(arguments: VectorKernel.available)
    func accumulatorMatchesBruteForceWithTiesAndExclusions(kernel: VectorKernel) {
        var rng = SplitMix64(seed: 1)
        for trial in 0..<50 {
            let n = 1 + Int(rng.next() % 300)
            // Few distinct values, so that ties are everywhere.
            let scores = (0..<n).map { _ in Float(Int(rng.next() % 7)) - 3 }
            let excluded = Set((0..<n).filter { _ in rng.next() % 5 == 0 }.map { $0 + 100 })
            for k in [0, 1, 5, 17, n, n + 3] {
                var accumulator = TopKAccumulator(capacity: k)
                scores.withUnsafeBufferPointer { accumulator.offer(scores: $0, firstIndex: 100, excluding: excluded, kernel: kernel) }
                let expected = bruteForceTopK(scores: scores, firstIndex: 100, k: k, excluding: excluded)
                #expect(accumulator.sorted() == expected, "trial \(trial), n \(n), k \(k)")
            }
        }
    }

    /// The heap compares ranking keys: they must order items exactly as `ranksBefore` does,
    /// through infinities, subnormals, both zeros (equal scores, so the lower row first) and
    /// the largest rows, and give the items back unchanged.
    @Test func rankingKeysOrderItemsAsRanksBefore() {
        let scores: [Float] = [-.infinity, -.greatestFiniteMagnitude, -1, -.leastNonzeroMagnitude, -0.0, 0,
                               .leastNonzeroMagnitude, 1, 1.0000001, .greatestFiniteMagnitude, .infinity]
        let rows = [0, 1, 7, 4_000_000_000, Int(UInt32.max)]
        let items = scores.flatMap { score in rows.map { ScoredItem(index: $0, score: score) } }
        for a in items {
            let key = TopKAccumulator.rankingKey(index: a.index, score: a.score)
            let back = TopKAccumulator.item(rankingKey: key)
            #expect(back.index == a.index && back.score == a.score, "\(a)")
            for b in items {
                #expect((key > TopKAccumulator.rankingKey(index: b.index, score: b.score)) == ScoredItem.ranksBefore(a, b),
                        "\(a) against \(b)")
            }
        }
        var accumulator = TopKAccumulator(capacity: 1)
        accumulator.offer(index: 5, score: -0.0)
        accumulator.offer(index: 3, score: 0)
        #expect(accumulator.sorted().map(\.index) == [3])
    }

    /// One candidate at a time, with exclusions: an excluded row is never kept, whether or not
    /// its filter bit is shared with rows that are kept (row 64 shares row 0's).
    @Test func aSingleOfferSkipsExcludedRows() {
        let excluded: Set<Int> = [0, 7]
        let filter = ExclusionFilter(excluded)
        var accumulator = TopKAccumulator(capacity: 2)
        for (row, score) in [(0, 9), (64, 8), (7, 7), (3, 1), (5, 2)] as [(Int, Float)] {
            accumulator.offer(index: row, score: score, excluding: excluded, filter: filter)
        }
        #expect(accumulator.sorted() == [ScoredItem(index: 64, score: 8), ScoredItem(index: 5, score: 2)])
    }

    /// The filter may let a non-member through to the set, never a member past it; a small
    /// set's filter rules out the rows whose bit it does not hold.
    @Test func exclusionFilterNeverRulesOutAMember() {
        var rng = SplitMix64(seed: 9)
        for size in [0, 1, 5, 32, 33, 200] {
            let excluded = Set((0..<size).map { _ in Int(rng.next() % 100_000) })
            let filter = ExclusionFilter(excluded)
            #expect(excluded.allSatisfy(filter.mayContain), "\(size) rows")
            if excluded.count <= 32 {
                let held = Set(excluded.map { $0 & 63 })
                let others = (0..<1_000).filter { !held.contains($0 & 63) }
                #expect(!others.isEmpty && others.allSatisfy { !filter.mayContain($0) }, "\(size) rows")
            } else {
                #expect((0..<1_000).allSatisfy(filter.mayContain), "\(size) rows")
            }
        }
    }

    @Test(arguments: VectorKernel.available)
    func offerWithBiasesKeepsTheBestSumsAcrossChunks(kernel: VectorKernel) {
        var rng = SplitMix64(seed: 4)
        for trial in 0..<50 {
            // Lengths on both sides of the 16-score chunks; coarse values for ties; NaN here and
            // there, beside candidates in the same chunk.
            let n = 1 + Int(rng.next() % 300)
            let scores = (0..<n).map { _ in rng.next() % 11 == 0 ? Float.nan : Float(Int(rng.next() % 7)) - 3 }
            let biases = (0..<n).map { _ in Float(Int(rng.next() % 3)) }
            let sums = zip(scores, biases).map { $0 + $1 }
            let excluded = Set((0..<n).filter { _ in rng.next() % 5 == 0 }.map { $0 + 7 })
            for k in [0, 1, 5, 17, n, n + 3] {
                var accumulator = TopKAccumulator(capacity: k)
                scores.withUnsafeBufferPointer { s in
                    biases.withUnsafeBufferPointer { b in
                        accumulator.offer(scores: s, adding: b, firstIndex: 7, excluding: excluded, kernel: kernel)
                    }
                }
                let expected = bruteForceTopK(scores: sums, firstIndex: 7, k: k, excluding: excluded)
                #expect(accumulator.sorted() == expected, "trial \(trial), n \(n), k \(k)")
            }
        }
    }

    /// Tiles of at least the floor's 128 lanes, where a list not yet full offers only the
    /// scores at or above its floor: the lists are the brute-force ones whatever the exclusions
    /// do to the lanes' maxima (the excluded rows are the best ones, spread over the lanes, or
    /// outside the tile), with ties, NaNs, infinities and lists of 1–129 items (129, more than
    /// the lanes, takes no floor).
    @Test(arguments: VectorKernel.available)
    func listsThatStartOnALargeTileStayExact(kernel: VectorKernel) {
        var rng = SplitMix64(seed: 21)
        for trial in 0..<60 {
            let n = 128 + Int(rng.next() % 3_000)
            let coarse = trial % 3 == 0
            let scores: [Float] = (0..<n).map { _ in
                switch rng.next() % 200 {
                case 0: .nan
                case 1: .infinity
                case 2: -.infinity
                default: coarse ? Float(Int(rng.next() % 5)) : rng.nextFloat(in: -1...1)
                }
            }
            let biases = (0..<n).map { _ in coarse ? Float(Int(rng.next() % 2)) : rng.nextFloat(in: 0...1) }
            let sums = zip(scores, biases).map { $0 + $1 }
            let best = sums.indices.filter { !sums[$0].isNaN }.sorted { sums[$0] > sums[$1] }
            let firstIndex = 1_000
            let exclusions: [Set<Int>] = [
                [],
                Set(best.prefix(Int(rng.next() % 90)).map { $0 + firstIndex }),
                Set((0..<40).map { _ in Int(rng.next() % UInt64(n)) + firstIndex }),
                Set((0..<200).map { _ in Int(rng.next() % 10_000) }),
            ]
            for excluded in exclusions {
                for k in [1, 10, 42, 100, 128, 129] {
                    var plain = TopKAccumulator(capacity: k), withBiases = TopKAccumulator(capacity: k)
                    scores.withUnsafeBufferPointer { s in
                        plain.offer(scores: s, firstIndex: firstIndex, excluding: excluded, kernel: kernel)
                        biases.withUnsafeBufferPointer { b in
                            withBiases.offer(scores: s, adding: b, firstIndex: firstIndex, excluding: excluded, kernel: kernel)
                        }
                    }
                    #expect(plain.sorted() == bruteForceTopK(scores: scores, firstIndex: firstIndex, k: k, excluding: excluded),
                            "trial \(trial), n \(n), k \(k), \(excluded.count) excluded")
                    #expect(withBiases.sorted() == bruteForceTopK(scores: sums, firstIndex: firstIndex, k: k, excluding: excluded),
                            "trial \(trial), n \(n), k \(k), \(excluded.count) excluded, with biases")
                }
            }
        }
    }

    /// A list filled over several tiles keeps what the first tile gave it (the floor is taken
    /// on a tile only while the list is not full, and only scores of that tile are weighed).
    @Test(arguments: VectorKernel.available)
    func aListFilledAcrossTilesStaysExact(kernel: VectorKernel) {
        var rng = SplitMix64(seed: 22)
        for trial in 0..<30 {
            let n = 600 + Int(rng.next() % 4_000)
            let scores = (0..<n).map { _ in rng.nextFloat(in: 0...1) }
            let excluded = Set((0..<30).map { _ in Int(rng.next() % UInt64(n)) })
            for tile in [128, 200, 1_024] {
                var accumulator = TopKAccumulator(capacity: 42)
                scores.withUnsafeBufferPointer { s in
                    for start in stride(from: 0, to: n, by: tile) {
                        accumulator.offer(scores: UnsafeBufferPointer(rebasing: s[start..<min(n, start + tile)]),
                                          firstIndex: start, excluding: excluded, kernel: kernel)
                    }
                }
                #expect(accumulator.sorted() == bruteForceTopK(scores: scores, k: 42, excluding: excluded),
                        "trial \(trial), n \(n), tile \(tile)")
            }
        }
    }

    /// The floor every kernel computes: the rank-th largest of the lanes' maxima (per lane
    /// j mod 128 the largest sum, NaN never counted, −∞ for a lane with no score).
    @Test(arguments: VectorKernel.available)
    func floorIsTheRankthLargestLaneMaximum(kernel: VectorKernel) {
        var rng = SplitMix64(seed: 23)
        for n in [1, 127, 128, 129, 255, 256, 1_000, 4_099] {
            let scores = (0..<n).map { _ -> Float in
                switch rng.next() % 20 {
                case 0: .nan
                case 1: -0.0
                case 2: 0
                case 3: -.infinity
                case 4: .infinity
                default: rng.nextFloat(in: -5...5)
                }
            }
            let biases = (0..<n).map { _ in rng.next() % 4 == 0 ? 0 : rng.nextFloat(in: -1...1) }
            for withBiases in [false, true] {
                let sums: [Float] = scores.indices.map { withBiases ? scores[$0] + biases[$0] : scores[$0] }
                var maxima = [Float](repeating: -.infinity, count: TopKAccumulator.floorLanes)
                for (j, sum) in sums.enumerated() where sum > maxima[j % maxima.count] { maxima[j % maxima.count] = sum }
                maxima.sort(by: >)
                for rank in [1, 2, 10, 42, 64, 127, 128] {
                    let floor = scores.withUnsafeBufferPointer { s in
                        biases.withUnsafeBufferPointer { b in
                            TopKAccumulator.floor(scores: s.baseAddress!, biases: withBiases ? b.baseAddress : nil,
                                                  count: n, rank: rank, kernel: kernel)
                        }
                    }
                    #expect(floor == maxima[rank - 1], "n \(n), rank \(rank), biases \(withBiases)")
                }
            }
        }
    }

    /// The unordered walk gives the same items as the sorted list, each once.
    @Test func unorderedItemsAreTheSortedOnes() {
        var rng = SplitMix64(seed: 25)
        for capacity in [0, 1, 7, 42] {
            var accumulator = TopKAccumulator(capacity: capacity)
            for row in 0..<300 { accumulator.offer(index: row, score: Float(Int(rng.next() % 50))) }
            var walked: [ScoredItem] = []
            accumulator.forEachUnordered { walked.append($0) }
            #expect(walked.sorted(by: ScoredItem.ranksBefore) == accumulator.sorted(), "capacity \(capacity)")
        }
    }

    /// The selection the floor uses: the rank-th largest, with repeats and infinities.
    @Test func selectionFindsTheRankthLargest() {
        var rng = SplitMix64(seed: 24)
        for trial in 0..<200 {
            let count = 1 + Int(rng.next() % 160)
            var values = (0..<count).map { _ -> Float in
                switch rng.next() % 10 {
                case 0: -.infinity
                case 1: .infinity
                default: Float(Int(rng.next() % 20))
                }
            }
            let descending = values.sorted(by: >)
            let rank = 1 + Int(rng.next() % UInt64(count))
            let found = values.withUnsafeMutableBufferPointer { TopKAccumulator.largest(rank, of: $0) }
            #expect(found == descending[rank - 1], "trial \(trial), rank \(rank) of \(count)")
        }
    }

    @Test(arguments: VectorKernel.available)
    func aCandidateAmongNaNsInItsChunkIsKept(kernel: VectorKernel) {
        // The first chunk fills the heap with 1s; the second holds NaNs and one 2.
        var scores = [Float](repeating: 1, count: 16) + [Float](repeating: .nan, count: 16)
        scores[16 + 9] = 2
        var accumulator = TopKAccumulator(capacity: 3)
        scores.withUnsafeBufferPointer { accumulator.offer(scores: $0, firstIndex: 0, excluding: [], kernel: kernel) }
        #expect(accumulator.sorted().map(\.index) == [25, 0, 1])
    }

    @Test(arguments: VectorKernel.available)
    func tiesGoToTheLowerIndexAndNaNIsNeverKept(kernel: VectorKernel) {
        var accumulator = TopKAccumulator(capacity: 3)
        let scores: [Float] = [.nan, 1, 2, 2, .nan, 2, 1]
        scores.withUnsafeBufferPointer { accumulator.offer(scores: $0, firstIndex: 0, excluding: [], kernel: kernel) }
        #expect(accumulator.sorted().map(\.index) == [2, 3, 5])
    }

    @Test(arguments: [ScoringBackend.simd, .blas])
    func kernelsMatchNaiveDotProducts(backend: ScoringBackend) {
        var rng = SplitMix64(seed: 2)
        for (queries, items, d) in [(1, 37, 64), (3, 50, 13), (64, 70, 64), (5, 9, 1), (2, 4, 24), (4, 33, 16)] {
            let q = (0..<(queries * d)).map { _ in rng.nextFloat(in: -1...1) }
            let e = (0..<(items * d)).map { _ in rng.nextFloat(in: -1...1) }
            var out = [Float](repeating: .nan, count: queries * items)
            q.withUnsafeBufferPointer { qp in
                e.withUnsafeBufferPointer { ep in
                    out.withUnsafeMutableBufferPointer { op in
                        ScoringKernels.scores(backend: backend, queries: qp, queryCount: queries, items: ep,
                                              itemCount: items, dimension: d, into: op)
                    }
                }
            }
            for b in 0..<queries {
                for i in 0..<items {
                    let naive = (0..<d).reduce(Float(0)) { $0 + q[b * d + $1] * e[i * d + $1] }
                    #expect(isClose(out[b * items + i], naive, absolute: 1e-4), "\(backend) b \(b) i \(i) d \(d)")
                }
            }
        }
    }

    @Test(arguments: [ScoringBackend.simd, .blas, .automatic])
    func scorerMatchesBruteForceAcrossTiles(backend: ScoringBackend) {
        var rng = SplitMix64(seed: 3)
        let d = 8, n = 300, queries = 5
        // Coarse values make exact score ties likely across tile boundaries.
        let e = (0..<(n * d)).map { _ in Float(Int(rng.next() % 3)) - 1 }
        let bias = (0..<n).map { _ in Float(Int(rng.next() % 2)) }
        let q = (0..<(queries * d)).map { _ in Float(Int(rng.next() % 3)) - 1 }
        let rows = 40..<277
        let excluded = (0..<queries).map { b in Set([40 + b, 100, 200 + b]) }
        for tile in [1, 7, 64, 4096] {
            let scorer = ItemScorer(backend: backend, tileSize: tile)
            let result = scorer.topK(queries: q, queryCount: queries, dimension: d, embeddings: e, biases: bias,
                                     rows: rows, k: 12, excluding: excluded)
            for b in 0..<queries {
                let scores = rows.map { i in (0..<d).reduce(bias[i]) { $0 + q[b * d + $1] * e[i * d + $1] } }
                let expected = bruteForceTopK(scores: scores, firstIndex: rows.lowerBound, k: 12, excluding: excluded[b])
                #expect(result[b] == expected, "tile \(tile), query \(b)")
            }
        }
    }
}
