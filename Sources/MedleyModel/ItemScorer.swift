/// Scores batches of query vectors against a contiguous block of the item table
/// (`dot(query, embedding) + bias`) and keeps each query's exact top-K.
///
/// Items are scored in tiles: one matrix product per tile for the whole batch, then each
/// query's row of the tile goes through its top-K accumulator while it is still in cache.
/// The full query-by-catalogue score matrix is never materialised.
public struct ItemScorer: Sendable {
    /// The dot-product implementation.
    public var backend: ScoringBackend
    /// Items per tile; the scratch buffer is `queryCount × tileSize` floats.
    public var tileSize: Int
    /// How the candidates of int8 scoring fared, across every copy of this scorer.
    public let reducedCounts = ReducedScoringCounts()
    /// How many candidates int8 lists keep, across every copy of this scorer.
    public let int8Margin = Int8CandidateMargin()

    public init(backend: ScoringBackend = .automatic, tileSize: Int = 4096) {
        precondition(tileSize > 0, "tile size must be positive")
        self.backend = backend
        self.tileSize = tileSize
    }

    /// The best `k` items of `rows` for each query.
    ///
    /// - Parameters:
    ///   - queries: `queryCount × dimension`, row-major.
    ///   - embeddings: the item table, `itemCount × dimension`, row-major.
    ///   - biases: one bias per item of the table.
    ///   - rows: the block of item rows to score (e.g. one domain's items).
    ///   - excluded: per query, item indices (table rows) that must not be returned; empty
    ///     or one set per query.
    /// - Returns: per query, up to `k` items best first; ties go to the lower index.
    public func topK(
        queries: [Float], queryCount: Int, dimension: Int,
        embeddings: [Float], biases: [Float], rows: Range<Int>,
        k: Int, excluding excluded: [Set<Int>] = []
    ) -> [[ScoredItem]] {
        var accumulators = (0..<queryCount).map { _ in TopKAccumulator(capacity: max(0, k)) }
        offer(queries: queries, queryCount: queryCount, dimension: dimension, embeddings: embeddings,
              biases: biases, rows: rows, into: &accumulators, excluding: excluded)
        return accumulators.map { $0.sorted() }
    }

    /// Scores every query against `rows` and offers the scores to that query's accumulator, so
    /// that one pass over a block of the item table serves queries of different heads with
    /// different list lengths, and a list spanning several blocks accumulates across calls.
    ///
    /// - Parameters:
    ///   - accumulators: one per query, in query order.
    ///   - excluded: per query, rows never offered; empty or one set per query.
    public func offer(
        queries: [Float], queryCount: Int, dimension: Int,
        embeddings: [Float], biases: [Float], rows: Range<Int>,
        into accumulators: inout [TopKAccumulator], excluding excluded: [Set<Int>] = []
    ) {
        precondition(queries.count == queryCount * dimension, "queries are not queryCount × dimension")
        precondition(rows.lowerBound >= 0 && rows.upperBound * dimension <= embeddings.count, "rows outside the item table")
        precondition(rows.upperBound <= biases.count, "rows outside the bias vector")
        precondition(excluded.isEmpty || excluded.count == queryCount, "one exclusion set per query")
        precondition(accumulators.count == queryCount, "one accumulator per query")
        guard queryCount > 0, !rows.isEmpty, accumulators.contains(where: { $0.capacity > 0 }) else { return }
        queries.withUnsafeBufferPointer { q in
            embeddings.withUnsafeBufferPointer { e in
                scoreTiles(queryCount: queryCount, biases: biases, rows: rows,
                           tileRows: Self.float32TileRows(queryCount: queryCount, tileSize: tileSize), into: &accumulators, excluding: excluded) { start, n, out in
                    ScoringKernels.scores(backend: backend, queries: q, queryCount: queryCount,
                                          items: UnsafeBufferPointer(rebasing: e[(start * dimension)..<((start + n) * dimension)]),
                                          itemCount: n, dimension: dimension, into: out)
                }
            }
        }
    }
}

extension ItemScorer {
    /// The scores of one tile, at most: 256 KiB of float32.
    static let scoreScratchFloats = 65_536

    /// The same for a pass over an int8 copy: 1 MiB. Its kernel writes four queries' scores
    /// at a time and is bound by its multiply-adds, not by where the scores land, while a
    /// larger tile gives a list that is not yet full a floor over more of its items
    /// (``TopKAccumulator``), so fewer sifts: batches of 32 made 18–19 % more queries per
    /// second at 3 × 5k items and 10–14 % at 3 × 50k than with 256 KiB; float32 passes through
    /// sgemm lost 5–7 % at 3 × 50k with it (BENCHMARKS.md).
    static let int8ScoreScratchFloats = 262_144

    /// Rows per tile of a float32 pass (and of the bfloat16 pass, which expands rows to
    /// float32): a few queries go through sgemv one at a time (ScoringKernels.gemvQueryLimit),
    /// and a 1,024-row tile (256 KiB at d = 64) stays in L2 from the first query's pass to the
    /// last; a batch's tile is sized so that its scores (queries × rows) stay in L2 too, for the
    /// accumulators' read after the product.
    static func float32TileRows(queryCount: Int, tileSize: Int) -> Int {
        min(tileSize, queryCount <= ScoringKernels.gemvQueryLimit ? 1024 : max(256, scoreScratchFloats / queryCount))
    }

    /// Rows per tile of a pass over an int8 copy (``int8ScoreScratchFloats``).
    static func int8TileRows(queryCount: Int, tileSize: Int) -> Int {
        min(tileSize, max(256, int8ScoreScratchFloats / queryCount))
    }

    /// The tiled pass every table shares: for each tile of `rows` (at most `tileRows` rows),
    /// `score(start, n, out)` writes every query's scores of rows `start..<start + n`
    /// (`out[b × n + i]`), and each query's row of scores goes to its accumulator while still
    /// in cache, the biases added as it is read. Tiles after the first start at a multiple of
    /// `alignment` (a table's block of rows, which a kernel reads whole), unless the tiles are
    /// smaller than two blocks.
    func scoreTiles(
        queryCount: Int, biases: [Float], rows: Range<Int>, tileRows: Int, alignment: Int = 1,
        into accumulators: inout [TopKAccumulator], excluding excluded: [Set<Int>],
        score: (_ start: Int, _ count: Int, _ out: UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        let tile = min(tileRows, rows.count)
        // Every score is written by `score` before it is read: not zeroed first (a batch's
        // int8 tile is 1 MiB).
        var scratch = [Float](unsafeUninitializedCapacity: queryCount * tile) { _, count in count = queryCount * tile }
        let noExclusions = Set<Int>()
        let filters = excluded.isEmpty ? [ExclusionFilter(noExclusions)] : excluded.map(ExclusionFilter.init)
        biases.withUnsafeBufferPointer { bias in
            scratch.withUnsafeMutableBufferPointer { s in
                var start = rows.lowerBound
                while start < rows.upperBound {
                    let n = min(tile - (tile >= 2 * alignment ? start % alignment : 0), rows.upperBound - start)
                    let out = UnsafeMutableBufferPointer(rebasing: s[0..<(queryCount * n)])
                    score(start, n, out)
                    let tileBiases = UnsafeBufferPointer(rebasing: bias[start..<(start + n)])
                    for b in 0..<queryCount {
                        accumulators[b].offer(scores: UnsafeBufferPointer(rebasing: out[(b * n)..<((b + 1) * n)]),
                                              adding: tileBiases, firstIndex: start,
                                              excluding: excluded.isEmpty ? noExclusions : excluded[b],
                                              filter: filters[excluded.isEmpty ? 0 : b])
                    }
                    start += n
                }
            }
        }
    }
}
