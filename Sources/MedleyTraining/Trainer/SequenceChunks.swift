import MedleyModel
import MedleySystem

/// Whole-sequence training of the session attention (as SASRec trains): the training examples
/// of one session (or, when the encoder reads the user's history, of one user) are cut into
/// chunks of consecutive targets whose attention inputs are prefixes of one item sequence of
/// at most n items, so one attention pass over the chunk's items gives every example's encoder
/// output (row j after items 0…j), and one backward pass takes all their gradients back
/// through it.
///
/// A session's (user's) items s, s+1, … are cut at s, s+n, s+2n, …: the example with target t
/// reads the chunk starting at `s + ⌊(t−1−s)/n⌋·n`, position `(t−1−s) mod n`. Within the first
/// n items this is exactly the serving input (the newest ≤ n items); later, the training input
/// holds the items since the chunk start (fewer than serving's n), as in SASRec's fixed-window
/// training.
struct SequenceChunks: Sendable {
    /// Per chunk, its training examples (a range of ``TrainingData/trainingExamples``).
    let ranges: [Range<Int>]
    let length: Int

    /// Chunks of `examples` (in the builder's order: user by user, targets increasing).
    init(examples: [TrainingExample], table: EventTable, shape: SessionAttentionShape) {
        length = shape.length
        var ranges: [Range<Int>] = []
        var start = 0
        var current: Int? = nil
        for (i, example) in examples.enumerated() {
            let chunk = Self.chunkStart(example, table: table, shape: shape)
            if i > 0 && (chunk == nil || chunk != current) {
                ranges.append(start..<i)
                start = i
            }
            current = chunk
        }
        if !examples.isEmpty { ranges.append(start..<examples.count) }
        self.ranges = ranges
    }

    /// The table index of the first item of the example's chunk; nil when its session is empty
    /// (the example has no attention input).
    static func chunkStart(_ example: TrainingExample, table: EventTable, shape: SessionAttentionShape) -> Int? {
        let t = Int(example.target), n = shape.length
        let s: Int
        switch shape.input {
        case .session: s = Int(table.sessionStarts[t])
        case .history: s = table.userRanges[Int(table.userRows[t])].lowerBound
        }
        guard t > s else { return nil }
        return s + ((t - 1 - s) / n) * n
    }
}

/// One shard's attention passes: consecutive examples of the same chunk share one pass.
struct AttentionPieces {
    /// Per piece: the pass over its items, and the examples (indices into the shard's slice)
    /// with the position each reads.
    var caches: [SessionAttention.Cache] = []
    var members: [[(example: Int, position: Int)]] = []
    /// Per example of the slice: (piece, position), or nil for an empty session.
    var placement: [(piece: Int, position: Int)?] = []

    init(_ examples: ArraySlice<TrainingExample>, seeds: [UInt64], data: TrainingData, attention: SessionAttention,
         parameters: ModelParameters, dropoutRate: Float) {
        var pieceStart: Int? = nil
        var lastPieceEnd = -1
        var groups: [(start: Int, members: [(Int, Int)], seed: UInt64)] = []
        for (i, example) in examples.enumerated() {
            guard let start = SequenceChunks.chunkStart(example, table: data.table, shape: attention.shape) else {
                placement.append(nil)
                continue
            }
            let position = Int(example.target) - 1 - start
            // A new piece when the chunk changes; a chunk split between shards or batches gets one piece in each.
            if start != pieceStart || i != lastPieceEnd + 1 {
                groups.append((start, [], seeds[i]))
                pieceStart = start
            }
            lastPieceEnd = i
            groups[groups.count - 1].members.append((i, position))
            placement.append((groups.count - 1, position))
        }
        for group in groups {
            let count = group.members.map(\.1).max()! + 1
            let rows = (group.start..<(group.start + count)).map { Int(data.table.itemRows[$0]) }
            var dropout: SessionAttention.Dropout? = dropoutRate > 0
                ? SessionAttention.Dropout(rate: dropoutRate, generator: SplitMix64(seed: group.seed ^ 0xA77E_4710_5E55_1014)) : nil
            caches.append(attention.forward(rows, parameters: parameters, dropout: &dropout))
            members.append(group.members)
        }
    }

    /// The encoder output an example reads, or nil (zeros) for an empty session.
    func output(forExample i: Int, dimension d: Int) -> [Float]? {
        guard let (piece, position) = placement[i] else { return nil }
        return Array(caches[piece].output[(position * d)..<((position + 1) * d)])
    }

    /// Takes the examples' gradients of their encoder outputs back through each piece's pass.
    func backward(_ outputGradients: [[Float]?], attention: SessionAttention, parameters: ModelParameters,
                  into gradients: inout ModelParameters) {
        let d = attention.dimension
        for (piece, cache) in caches.enumerated() {
            var dOutput = [Float](repeating: 0, count: cache.rows.count * d)
            var any = false
            for (example, position) in members[piece] {
                guard let g = outputGradients[example] else { continue }
                any = true
                for k in 0..<d { dOutput[position * d + k] += g[k] }
            }
            if any { attention.backward(cache, outputGradient: dOutput, parameters: parameters, into: &gradients) }
        }
    }
}
