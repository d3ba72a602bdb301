import MedleySystem
/// An inverted-file index over one block of the item table (one domain's items), for
/// approximate top-K by inner product when the block is too large to scan per request.
///
/// Built at model load: k-means (seeded, on a sample of the block, a few iterations) groups
/// the rows around `listCount` centroids; each row belongs to its nearest centroid's list, and
/// the lists' rows are stored contiguously (a copy of their embeddings and biases) so that a
/// probed list is one sequential read. A query ranks the lists by `query · centroid` plus the
/// list's mean bias, scores every row of its `probes` best lists exactly (float32), and offers
/// them to its accumulator. With `probes == listCount` every row is scored: the exact list.
///
/// With an int8 item table the lists' rows are also kept as int8 (``Int8Table``), and probing
/// reads those (a quarter of the bytes): the best max(4k, k + 32) rows of the probed lists by
/// their approximate scores are re-scored in float32, as ``ItemScorer`` does for a whole block
/// (without its check: the index's lists are approximate anyway).
public struct IVFIndex: Sendable {
    /// The table rows this index covers.
    public let rows: Range<Int>
    public let dimension: Int
    public let listCount: Int
    private let centroids: [Float]
    private let listBias: [Float]
    private let listStart: [Int]
    private let members: [Int]
    private let memberEmbeddings: [Float]
    private let memberBiases: [Float]
    /// `memberEmbeddings` as int8, with an int8 item table: each list from a whole block of
    /// the table's layout, its last block padded with zero rows, so that the C kernel reads
    /// every row of a list (a block cut by the list's ends would go to the portable loop).
    private let memberInt8: Int8Table?
    /// Where each list starts in `memberInt8`.
    private let int8ListStart: [Int]

    /// Lists for a block of `count` rows: about √count, so that a list is about √count rows.
    public static func defaultListCount(forRows count: Int) -> Int { max(1, Int(Double(count).squareRoot().rounded())) }

    public init(embeddings: [Float], biases: [Float], rows: Range<Int>, dimension d: Int,
                listCount requested: Int? = nil, iterations: Int = 6, seed: UInt64 = 1, precision: ItemPrecision = .float32) {
        precondition(d > 0 && rows.lowerBound >= 0 && rows.upperBound * d <= embeddings.count && rows.upperBound <= biases.count,
                     "rows outside the item table")
        let n = rows.count
        let lists = max(1, min(n, requested ?? Self.defaultListCount(forRows: n)))
        self.rows = rows
        dimension = d
        listCount = lists
        var rng = SplitMix64(seed: seed)
        // Seeds: distinct rows at random (a partial Fisher–Yates over the block's offsets).
        var offsets = Array(0..<n)
        let sampleCount = min(n, max(lists, 32 * lists))
        for i in 0..<sampleCount {
            let j = i + Int(rng.next() % UInt64(n - i))
            offsets.swapAt(i, j)
        }
        let sample = offsets[0..<sampleCount].map { rows.lowerBound + $0 }
        var c = [Float](repeating: 0, count: lists * d)
        for (l, row) in sample.prefix(lists).enumerated() {
            for k in 0..<d { c[l * d + k] = embeddings[row * d + k] }
        }
        for _ in 0..<iterations {
            let assignment = Self.nearest(rows: sample, embeddings: embeddings, dimension: d, centroids: c, listCount: lists)
            var sums = [Float](repeating: 0, count: lists * d)
            var counts = [Int](repeating: 0, count: lists)
            for (row, l) in zip(sample, assignment) {
                counts[l] += 1
                for k in 0..<d { sums[l * d + k] += embeddings[row * d + k] }
            }
            // An empty list keeps its centroid.
            for l in 0..<lists where counts[l] > 0 {
                for k in 0..<d { c[l * d + k] = sums[l * d + k] / Float(counts[l]) }
            }
        }
        let all = Array(rows)
        let assignment = Self.nearest(rows: all, embeddings: embeddings, dimension: d, centroids: c, listCount: lists)
        var start = [Int](repeating: 0, count: lists + 1)
        for l in assignment { start[l + 1] += 1 }
        for l in 0..<lists { start[l + 1] += start[l] }
        var fill = start
        var members = [Int](repeating: 0, count: n)
        for (row, l) in zip(all, assignment) {
            members[fill[l]] = row
            fill[l] += 1
        }
        var memberEmbeddings = [Float](repeating: 0, count: n * d)
        var memberBiases = [Float](repeating: 0, count: n)
        var listBias = [Float](repeating: 0, count: lists)
        for (position, row) in members.enumerated() {
            for k in 0..<d { memberEmbeddings[position * d + k] = embeddings[row * d + k] }
            memberBiases[position] = biases[row]
        }
        for l in 0..<lists where start[l + 1] > start[l] {
            listBias[l] = memberBiases[start[l]..<start[l + 1]].reduce(0, +) / Float(start[l + 1] - start[l])
        }
        centroids = c
        self.listBias = listBias
        listStart = start
        self.members = members
        self.memberEmbeddings = memberEmbeddings
        self.memberBiases = memberBiases
        if precision == .int8 {
            let blockRows = Int8Table.Layout.preferred.blockRows
            var starts = [Int](repeating: 0, count: lists + 1)
            for l in 0..<lists {
                let n = start[l + 1] - start[l]
                starts[l + 1] = starts[l] + (n + blockRows - 1) / blockRows * blockRows
            }
            var padded = [Float](repeating: 0, count: starts[lists] * d)
            for l in 0..<lists {
                let n = start[l + 1] - start[l]
                padded.replaceSubrange((starts[l] * d)..<((starts[l] + n) * d), with: memberEmbeddings[(start[l] * d)..<(start[l + 1] * d)])
            }
            memberInt8 = Int8Table(padded, dimension: d)
            int8ListStart = starts
        } else {
            memberInt8 = nil
            int8ListStart = []
        }
    }

    /// The precision probing reads the lists' rows in: int8 or float32.
    public var listPrecision: ItemPrecision { memberInt8 == nil ? .float32 : .int8 }

    /// The list of each row: the centroid nearest in Euclidean distance, i.e. the largest
    /// `row · c − |c|²/2`, computed a chunk of rows at a time as one matrix product.
    private static func nearest(rows: [Int], embeddings: [Float], dimension d: Int, centroids: [Float], listCount: Int) -> [Int] {
        var halfNorms = [Float](repeating: 0, count: listCount)
        for l in 0..<listCount {
            var s: Float = 0
            for k in 0..<d { s += centroids[l * d + k] * centroids[l * d + k] }
            halfNorms[l] = s / 2
        }
        let chunk = 1024
        var result = [Int](repeating: 0, count: rows.count)
        var block = [Float](repeating: 0, count: min(chunk, rows.count) * d)
        var scores = [Float](repeating: 0, count: min(chunk, rows.count) * listCount)
        var first = 0
        while first < rows.count {
            let m = min(chunk, rows.count - first)
            for i in 0..<m {
                let row = rows[first + i]
                for k in 0..<d { block[i * d + k] = embeddings[row * d + k] }
            }
            block.withUnsafeBufferPointer { b in
                centroids.withUnsafeBufferPointer { cp in
                    scores.withUnsafeMutableBufferPointer { s in
                        ScoringKernels.blasGEMMScores(queries: UnsafeBufferPointer(rebasing: b[0..<(m * d)]), queryCount: m,
                                                      items: cp, itemCount: listCount, dimension: d,
                                                      into: UnsafeMutableBufferPointer(rebasing: s[0..<(m * listCount)]))
                    }
                }
            }
            for i in 0..<m {
                var best = 0
                var bestValue = -Float.infinity
                for l in 0..<listCount {
                    let v = scores[i * listCount + l] - halfNorms[l]
                    if v > bestValue { bestValue = v; best = l }
                }
                result[first + i] = best
            }
            first += m
        }
        return result
    }

    /// Offers each query the rows of its `probes` best lists, scored exactly (with int8 lists,
    /// the best of them by their approximate scores, re-scored exactly).
    public func offer(queries: [Float], queryCount: Int, probes: Int,
                      into accumulators: inout [TopKAccumulator], excluding excluded: [Set<Int>] = []) {
        let d = dimension
        precondition(queries.count == queryCount * d, "queries are not queryCount × dimension")
        precondition(accumulators.count == queryCount, "one accumulator per query")
        precondition(excluded.isEmpty || excluded.count == queryCount, "one exclusion set per query")
        let probed = max(1, min(probes, listCount))
        var listScores = [Float](repeating: 0, count: queryCount * listCount)
        queries.withUnsafeBufferPointer { q in
            centroids.withUnsafeBufferPointer { c in
                listScores.withUnsafeMutableBufferPointer { s in
                    ScoringKernels.blasScores(queries: q, queryCount: queryCount, items: c, itemCount: listCount, dimension: d, into: s)
                }
            }
        }
        // int8 lists are scored in whole blocks, padding included.
        let starts = int8ListStart.isEmpty ? listStart : int8ListStart
        let longest = (0..<listCount).map { starts[$0 + 1] - starts[$0] }.max() ?? 0
        var scratch = [Float](repeating: 0, count: max(1, longest))
        let noExclusions = Set<Int>()
        for b in 0..<queryCount where accumulators[b].capacity > 0 {
            var best = TopKAccumulator(capacity: probed)
            for l in 0..<listCount { best.offer(index: l, score: listScores[b * listCount + l] + listBias[l]) }
            let skip = excluded.isEmpty ? noExclusions : excluded[b]
            if let memberInt8 {
                queries.withUnsafeBufferPointer { q in
                    offerThroughInt8(UnsafeBufferPointer(rebasing: q[(b * d)..<((b + 1) * d)]), lists: best.sorted(), table: memberInt8,
                                     scratch: &scratch, into: &accumulators[b], excluding: skip)
                }
                continue
            }
            let skipFilter = ExclusionFilter(skip)
            for list in best.sorted() {
                let first = listStart[list.index], n = listStart[list.index + 1] - first
                guard n > 0 else { continue }
                queries.withUnsafeBufferPointer { q in
                    memberEmbeddings.withUnsafeBufferPointer { e in
                        scratch.withUnsafeMutableBufferPointer { s in
                            ScoringKernels.blasScores(queries: UnsafeBufferPointer(rebasing: q[(b * d)..<((b + 1) * d)]), queryCount: 1,
                                                      items: UnsafeBufferPointer(rebasing: e[(first * d)..<((first + n) * d)]),
                                                      itemCount: n, dimension: d, into: s)
                        }
                    }
                }
                for j in 0..<n {
                    let row = members[first + j], score = scratch[j] + memberBiases[first + j]
                    accumulators[b].offer(index: row, score: score, excluding: skip, filter: skipFilter)
                }
            }
        }
    }

    /// Offers `query` the rows of `lists` through their int8 copy: their approximate scores
    /// pick the candidates, which are re-scored in float32 before they are offered.
    private func offerThroughInt8(_ query: UnsafeBufferPointer<Float>, lists: [ScoredItem], table: Int8Table,
                       scratch: inout [Float], into list: inout TopKAccumulator, excluding skip: Set<Int>) {
        let quantized = table.quantize(queries: query, queryCount: 1)
        // Excluded rows are dropped after re-scoring, so the candidates hold room for them.
        var candidates = TopKAccumulator(capacity: ItemScorer.candidateCount(forListLength: list.capacity) + skip.count)
        let none = Set<Int>(), noFilter = ExclusionFilter(none)
        scratch.withUnsafeMutableBufferPointer { s in
            memberBiases.withUnsafeBufferPointer { bias in
                for probed in lists {
                    let first = listStart[probed.index], n = listStart[probed.index + 1] - first
                    guard n > 0 else { continue }
                    // The list's whole blocks, padding included; only its n rows are offered.
                    let padded = int8ListStart[probed.index + 1] - int8ListStart[probed.index]
                    table.approximateScores(quantized, rows: int8ListStart[probed.index], count: padded,
                                            into: UnsafeMutableBufferPointer(rebasing: s[0..<padded]))
                    candidates.offer(scores: UnsafeBufferPointer(rebasing: s[0..<n]), adding: UnsafeBufferPointer(rebasing: bias[first..<(first + n)]),
                                     firstIndex: first, excluding: none, filter: noFilter)
                }
            }
        }
        var positions: [Int] = []
        positions.reserveCapacity(candidates.count)
        candidates.forEachUnordered { positions.append($0.index) }
        var exact = [Float](repeating: 0, count: positions.count)
        memberEmbeddings.withUnsafeBufferPointer { e in
            memberBiases.withUnsafeBufferPointer { bias in
                ItemScorer.candidateScores(query: query.baseAddress!, embeddings: e.baseAddress!, dimension: dimension,
                                           rows: positions, count: positions.count, biases: bias.baseAddress!, into: &exact)
            }
        }
        let skipFilter = ExclusionFilter(skip)
        for (position, score) in zip(positions, exact) {
            list.offer(index: members[position], score: score, excluding: skip, filter: skipFilter)
        }
    }

    /// The rows of every list, in list order (each row of the block exactly once).
    public var rowsByList: [[Int]] {
        (0..<listCount).map { Array(members[listStart[$0]..<listStart[$0 + 1]]) }
    }
}
