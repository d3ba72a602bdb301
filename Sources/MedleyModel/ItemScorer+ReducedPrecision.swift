import CScoringKernels

/// Scoring from a reduced-precision copy of the item table, then exact float32 re-scoring.
///
/// The reduced pass reads half (bfloat16) or a quarter (int8) of the float32 table's bytes; it
/// keeps, per list, the best few items by their approximate scores, and those candidates are
/// scored again exactly (the float32 dot product plus bias) before they are offered to the
/// list. The returned scores are exact.
///
/// With int8, the lists are the float32 lists: no item outside a list's candidates scores
/// above its approximate score plus the table's error bound (``Int8Table/ErrorTerms``), so
/// when the list holds that many items scoring above that, no other item could enter it;
/// otherwise the query is tried again with four times the candidates, and if that does not
/// clear the check either, scored in float32 over every row of the block (both rare;
/// ``ReducedScoringCounts`` counts how rare). With bfloat16, the candidates' margin makes a
/// difference from the float32 list rare, not impossible (BENCHMARKS.md measures how often).
extension ItemScorer {
    /// Items re-scored per list of `k` under the wide margin: enough that bfloat16's ~2⁻⁸
    /// relative error moves an item of the exact top `k` out of the candidates very rarely, and
    /// that int8's lists clear their check (``candidatesHoldList(_:exact:bound:list:)``) nearly
    /// always on trained catalogues; int8 lists start narrower (``Int8CandidateMargin``).
    public static func candidateCount(forListLength k: Int) -> Int {
        k <= 0 ? 0 : max(4 * k, k + 32)
    }

    /// Items expanded to float32 at a time: 512 rows of d = 64 are 128 KiB, resident in L2
    /// while every query of the batch passes over them.
    static let reducedTileRows = 512

    /// Passes of more queries than this read the float32 table instead of an int8 copy. The int8
    /// pass is bound by its multiply-adds, while sgemm's cost per query falls as the batch
    /// grows: at 3 × 50k items the two were level at 16 queries with the portable loop (eight
    /// products per instruction); the AVX-512 VNNI kernel on row quads (64 per instruction) was
    /// ahead at every batch measured, up to 256 queries (BENCHMARKS.md). The AVX2 kernel keeps
    /// the portable loop's limit, as it was not measured apart.
    public static let int8QueryLimit = VectorKernel.best == .avx512VNNI ? 256 : 8

    /// Like ``offer(queries:queryCount:dimension:embeddings:biases:rows:into:excluding:)``, with
    /// the first pass over `reduced` and exact re-scoring against `embeddings`; a pass of more
    /// than ``int8QueryLimit`` queries over an int8 copy is scored from `embeddings` directly.
    public func offer(
        queries: [Float], queryCount: Int, dimension: Int, reduced: ReducedItemTable,
        embeddings: [Float], biases: [Float], rows: Range<Int>,
        into accumulators: inout [TopKAccumulator], excluding excluded: [Set<Int>] = []
    ) {
        precondition(queries.count == queryCount * dimension, "queries are not queryCount × dimension")
        precondition(reduced.dimension == dimension && reduced.rows * dimension == embeddings.count, "the reduced table is not the item table's copy")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= reduced.rows && rows.upperBound <= biases.count, "rows outside the item table")
        precondition(excluded.isEmpty || excluded.count == queryCount, "one exclusion set per query")
        precondition(accumulators.count == queryCount, "one accumulator per query")
        guard queryCount > 0, !rows.isEmpty, accumulators.contains(where: { $0.capacity > 0 }) else { return }
        if case .int8 = reduced, queryCount > Self.int8QueryLimit {
            offer(queries: queries, queryCount: queryCount, dimension: dimension, embeddings: embeddings,
                  biases: biases, rows: rows, into: &accumulators, excluding: excluded)
            return
        }
        // int8 lists keep the margin their catalogue has earned (``Int8CandidateMargin``);
        // bfloat16's, with no check, the wide one.
        let wide = if case .int8 = reduced { int8Margin.isWide } else { true }
        var candidates = accumulators.map {
            TopKAccumulator(capacity: Int8CandidateMargin.candidateCount(forListLength: $0.capacity, wide: wide))
        }
        // With int8, the table and each query's error bound over the block.
        var int8Bound: (table: Int8Table, bounds: [Double])?
        queries.withUnsafeBufferPointer { q in
            switch reduced {
            case .bfloat16(let table):
                var expanded = [Float](repeating: 0, count: min(Self.reducedTileRows, rows.count) * dimension)
                expanded.withUnsafeMutableBufferPointer { buffer in
                    scoreTiles(queryCount: queryCount, biases: biases, rows: rows,
                               tileRows: Self.float32TileRows(queryCount: queryCount, tileSize: Self.reducedTileRows),
                               into: &candidates, excluding: excluded) { start, n, out in
                        table.expand(rows: start, count: n, into: buffer)
                        ScoringKernels.scores(backend: backend, queries: q, queryCount: queryCount,
                                              items: UnsafeBufferPointer(rebasing: buffer[0..<(n * dimension)]),
                                              itemCount: n, dimension: dimension, into: out)
                    }
                }
            case .int8(let table):
                let quantized = table.quantize(queries: q, queryCount: queryCount)
                let terms = table.errorTerms(rows: rows)
                let bounds = (0..<queryCount).map { b in
                    terms.bound(query: UnsafeBufferPointer(rebasing: q[(b * dimension)..<((b + 1) * dimension)]),
                                queryScale: quantized.scales[b])
                }
                for b in 0..<queryCount { candidates[b].passFloor = Self.passFloor(for: accumulators[b], bound: bounds[b]) }
                scoreTiles(queryCount: queryCount, biases: biases, rows: rows,
                           tileRows: Self.int8TileRows(queryCount: queryCount, tileSize: tileSize),
                           alignment: table.layout.blockRows, into: &candidates, excluding: excluded) { start, n, out in
                    table.approximateScores(quantized, rows: start, count: n, into: out)
                }
                int8Bound = (table, bounds)
            }
            let most = candidates.map(\.count).max() ?? 0
            var listsRetried = 0, listsScoredInFull = 0
            embeddings.withUnsafeBufferPointer { e in
                biases.withUnsafeBufferPointer { bias in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, most)) { candidateRows in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, most)) { exact in
                            for b in 0..<queryCount {
                                let query = q.baseAddress! + b * dimension
                                if Self.offerRescored(candidates[b], bound: int8Bound?.bounds[b], query: query, dimension: dimension,
                                                      embeddings: e.baseAddress!, biases: bias.baseAddress!,
                                                      rows: candidateRows.baseAddress!, exact: exact.baseAddress!, into: &accumulators[b]) {
                                    continue
                                }
                                // Only a checked (int8) list can fail.
                                guard let (table, bounds) = int8Bound else { preconditionFailure("an unchecked list was refused") }
                                listsRetried += 1
                                let exclusions = excluded.isEmpty ? [] : excluded[b]
                                if !retry(query: UnsafeBufferPointer(start: query, count: dimension), table: table, bound: bounds[b],
                                          embeddings: embeddings, biases: biases, rows: rows, into: &accumulators[b],
                                          excluding: exclusions) {
                                    Self.offerEveryRow(query: query, embeddings: e.baseAddress!, dimension: dimension,
                                                       biases: bias.baseAddress!, rows: rows, into: &accumulators[b],
                                                       excluding: exclusions)
                                    listsScoredInFull += 1
                                }
                            }
                        }
                    }
                }
            }
            let listsChecked = int8Bound == nil ? 0 : queryCount
            reducedCounts.record(checked: listsChecked, retried: listsRetried, scoredInFull: listsScoredInFull)
            if !wide { int8Margin.recordNarrow(checked: listsChecked, retried: listsRetried) }
        }
    }

    /// A list whose candidates did not clear the check, tried once more with
    /// ``retryCandidateFactor`` times the candidates (its query alone through the int8 pass of
    /// the block): offered them and true if they clear it; false, with `list` untouched, if not.
    /// The int8 pass reads a quarter of the float32 table's bytes and sums in integers, so on a
    /// large block the retry costs a fraction of the float32 pass it usually saves.
    private func retry(query: UnsafeBufferPointer<Float>, table: Int8Table, bound: Double, embeddings: [Float], biases: [Float],
                       rows: Range<Int>, into list: inout TopKAccumulator, excluding excluded: Set<Int>) -> Bool {
        var candidates = [TopKAccumulator(capacity: Self.retryCandidateFactor * Self.candidateCount(forListLength: list.capacity))]
        candidates[0].passFloor = Self.passFloor(for: list, bound: bound)
        let quantized = table.quantize(queries: query, queryCount: 1)
        scoreTiles(queryCount: 1, biases: biases, rows: rows, tileRows: Self.int8TileRows(queryCount: 1, tileSize: tileSize),
                   alignment: table.layout.blockRows, into: &candidates, excluding: excluded.isEmpty ? [] : [excluded]) { start, n, out in
            table.approximateScores(quantized, rows: start, count: n, into: out)
        }
        let count = max(1, candidates[0].count)
        return embeddings.withUnsafeBufferPointer { e in
            biases.withUnsafeBufferPointer { b in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { candidateRows in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: count) { exact in
                        Self.offerRescored(candidates[0], bound: bound, query: query.baseAddress!, dimension: query.count,
                                           embeddings: e.baseAddress!, biases: b.baseAddress!, rows: candidateRows.baseAddress!,
                                           exact: exact.baseAddress!, into: &list)
                    }
                }
            }
        }
    }

    /// Scores `candidates` exactly (their rows and scores written to `rows` and `exact`, each
    /// room for all of them) and offers them to `list`; true. With a `bound`, only if they clear
    /// the check (``candidatesHoldList(_:exact:bound:list:)``): false, and `list` untouched, if not.
    static func offerRescored(_ candidates: TopKAccumulator, bound: Double?, query: UnsafePointer<Float>, dimension: Int,
                              embeddings: UnsafePointer<Float>, biases: UnsafePointer<Float>, rows: UnsafeMutablePointer<Int>,
                              exact: UnsafeMutablePointer<Float>, into list: inout TopKAccumulator) -> Bool {
        var n = 0
        candidates.forEachUnordered { rows[n] = $0.index; n += 1 }
        candidateScores(query: query, embeddings: embeddings, dimension: dimension, rows: rows, count: n, biases: biases, into: exact)
        if let bound, !candidatesHoldList(candidates, exact: UnsafeBufferPointer(start: exact, count: n), bound: bound, list: list) {
            return false
        }
        for i in 0..<n { list.offer(index: rows[i], score: exact[i]) }
        return true
    }

    /// How many times the candidates a retried list takes (``retry(query:table:bound:embeddings:biases:rows:into:excluding:)``).
    static let retryCandidateFactor = 4

    /// Whether `list`, offered the candidates' `exact` scores, is the float32 list of the block:
    /// true when every row that could score entered the candidates (they did not fill up), or
    /// when the list would hold its capacity of items scoring above the worst candidate's
    /// approximate score plus `bound` (and the roundings of adding the bias to both scores),
    /// above which no row outside the candidates can score.
    static func candidatesHoldList(_ candidates: TopKAccumulator, exact: UnsafeBufferPointer<Float>, bound: Double,
                                   list: TopKAccumulator) -> Bool {
        guard bound.isFinite else { return false }
        guard list.capacity > 0, candidates.count == candidates.capacity, let worst = candidates.lowestKeptScore else {
            return true
        }
        let lowest = Double(worst)
        let limit = lowest + bound + biasRoundingSlack(lowest, bound: bound)
        var above = 0
        list.forEachUnordered { if Double($0.score) > limit { above += 1 } }
        for score in exact where Double(score) > limit { above += 1 }
        return above >= list.capacity
    }

    /// What adding the bias can round away from a score near `score` (float32, within 2⁻²⁴ of the
    /// sum, once for the approximate score and once for the exact one), with room to spare.
    private static func biasRoundingSlack(_ score: Double, bound: Double) -> Double {
        0x1p-20 * (abs(score) + bound)
    }

    /// The floor of a block's candidates for `list`: −∞ while the list is not full; once it is
    /// full, it holds its capacity at or above its worst score, and an item whose approximate
    /// score is more than `bound` below that cannot enter (``passFloor(belowListsWorst:bound:)``).
    static func passFloor(for list: TopKAccumulator, bound: Double) -> Float {
        guard let worst = list.lowestKeptScore, list.count == list.capacity else { return -.infinity }
        return passFloor(belowListsWorst: worst, bound: bound)
    }

    /// The largest float32 `f` with `f + bound` (and the roundings of adding the bias to both
    /// scores) below `worst`: an item whose approximate score is below it scores below `worst`
    /// exactly, so a full list whose worst is `worst` cannot take it (not even on a tie).
    static func passFloor(belowListsWorst worst: Float, bound: Double) -> Float {
        let exact = Double(worst) - bound - biasRoundingSlack(Double(worst), bound: bound)
        guard exact.isFinite else { return -.infinity }
        let floor = Float(exact)
        return Double(floor) > exact ? floor.nextDown : floor
    }

    /// Offers every row of `rows` but the excluded ones, scored exactly as the candidates are.
    static func offerEveryRow(query: UnsafePointer<Float>, embeddings: UnsafePointer<Float>, dimension: Int,
                              biases: UnsafePointer<Float>, rows: Range<Int>, into list: inout TopKAccumulator,
                              excluding excluded: Set<Int>) {
        let chunk = 256
        let filter = ExclusionFilter(excluded)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: chunk) { indices in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { scores in
                var start = rows.lowerBound
                while start < rows.upperBound {
                    let n = min(chunk, rows.upperBound - start)
                    for i in 0..<n { indices[i] = start + i }
                    candidateScores(query: query, embeddings: embeddings, dimension: dimension, rows: indices.baseAddress!,
                                    count: n, biases: biases, into: scores.baseAddress!)
                    for i in 0..<n { list.offer(index: start + i, score: scores[i], excluding: excluded, filter: filter) }
                    start += n
                }
            }
        }
    }

    /// The exact float32 scores (``ScoringKernels/dot(_:_:_:)`` plus bias, to the bit) of
    /// `count` candidate rows: the C kernel where the CPU has AVX2 (eight lanes where the
    /// baseline build's dot product has four, and the rows of the next candidates fetched while
    /// one is summed, as they are scattered over a table larger than the caches), the portable
    /// dot product otherwise.
    static func candidateScores(query: UnsafePointer<Float>, embeddings: UnsafePointer<Float>, dimension: Int,
                                rows: UnsafePointer<Int>, count: Int, biases: UnsafePointer<Float>,
                                into out: UnsafeMutablePointer<Float>, kernel: VectorKernel = .best) {
        if let level = kernel.level {
            rows.withMemoryRebound(to: Int64.self, capacity: count) {
                medley_candidate_dots(level, ScoringKernels.fusesMultiplyAdds ? 1 : 0, query, embeddings, dimension, $0, count, biases, out)
            }
            return
        }
        for i in 0..<count {
            out[i] = ScoringKernels.dot(query, embeddings + rows[i] * dimension, dimension) + biases[rows[i]]
        }
    }
}
