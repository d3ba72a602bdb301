import MedleyModel
import MedleySystem

/// Whole-sequence training of the session encoder (as SASRec and GRU4Rec train): the training
/// examples of one session (or, when the encoder reads the user's history, of one user) are cut
/// into chunks of consecutive targets whose encoder inputs are prefixes of one item window of at
/// most n items, so one encoder pass over the window gives every example's encoder output
/// (row j after items 0…j), and one backward pass takes all their gradients back through it.
///
/// Windows start at s, s+h, s+2h, … (stride h ≤ n) for a session (user) starting at s. The
/// example whose newest input item is at offset p = t−1−s reads the window starting at s when
/// p < n (exactly the serving input, the newest ≤ n items), and otherwise the latest window that
/// holds p at one of its last h positions: start `s + (⌊(p−n)/h⌋ + 1)·h`, position in [n−h, n).
/// So a target past the first n items reads between n−h+1 and n items where serving reads n:
/// with h = n (windows that do not overlap) as few as one, with the default h = ⌈n/2⌉ at least
/// half, for about n/h times the encoder work of windows that do not overlap.
struct SequenceChunks: Sendable {
    /// Per chunk, its training examples (a range of ``TrainingData/trainingExamples``).
    let ranges: [Range<Int>]
    /// The window length n (the encoder's sequence length) and the stride h between window starts.
    let length: Int
    let stride: Int
    let input: AttentionSequence

    /// Chunks of `examples` (in the builder's order: user by user, targets increasing).
    init(examples: [TrainingExample], table: EventTable, shape: SessionEncoderShape, stride: Int) {
        precondition((1...shape.length).contains(stride), "the window stride must be in 1...n")
        length = shape.length
        self.stride = stride
        input = shape.input
        var ranges: [Range<Int>] = []
        var start = 0
        var current: Int? = nil
        for (i, example) in examples.enumerated() {
            let chunk = Self.chunkStart(example, table: table, length: length, stride: stride, input: input)
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
    /// (the example has no encoder input).
    func chunkStart(_ example: TrainingExample, table: EventTable) -> Int? {
        Self.chunkStart(example, table: table, length: length, stride: stride, input: input)
    }

    private static func chunkStart(_ example: TrainingExample, table: EventTable, length n: Int, stride h: Int,
                                   input: AttentionSequence) -> Int? {
        let t = Int(example.target)
        let s: Int
        switch input {
        case .session: s = Int(table.sessionStarts[t])
        case .history: s = table.userRanges[Int(table.userRows[t])].lowerBound
        }
        guard t > s else { return nil }
        let p = t - 1 - s
        return p < n ? s : s + ((p - n) / h + 1) * h
    }
}

/// One shard's session-encoder passes: consecutive examples of the same chunk share one pass.
struct EncoderPieces {
    /// Per piece: the pass over its items, and the examples (indices into the shard's slice)
    /// with the position each reads.
    var caches: [SessionEncoder.Cache] = []
    var members: [[(example: Int, position: Int)]] = []
    /// Per example of the slice: (piece, position), or nil for an empty session.
    var placement: [(piece: Int, position: Int)?] = []

    init(_ examples: ArraySlice<TrainingExample>, seeds: [UInt64], data: TrainingData, chunks: SequenceChunks,
         encoder: SessionEncoder, parameters: ModelParameters, dropoutRate: Float) {
        var pieceStart: Int? = nil
        var lastPieceEnd = -1
        var groups: [(start: Int, members: [(Int, Int)], seed: UInt64)] = []
        for (i, example) in examples.enumerated() {
            guard let start = chunks.chunkStart(example, table: data.table) else {
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
            var dropout: SequenceDropout? = dropoutRate > 0
                ? SequenceDropout(rate: dropoutRate, generator: SplitMix64(seed: group.seed ^ 0xA77E_4710_5E55_1014)) : nil
            caches.append(encoder.forward(rows, parameters: parameters, dropout: &dropout))
            members.append(group.members)
        }
    }

    /// The encoder output an example reads, or nil (zeros) for an empty session.
    func output(forExample i: Int, dimension d: Int) -> [Float]? {
        guard let (piece, position) = placement[i] else { return nil }
        return Array(caches[piece].output[(position * d)..<((position + 1) * d)])
    }

    /// Takes the examples' gradients of their encoder outputs back through each piece's pass.
    func backward(_ outputGradients: [[Float]?], encoder: SessionEncoder, parameters: ModelParameters,
                  into gradients: inout ModelParameters) {
        let d = encoder.dimension
        for (piece, cache) in caches.enumerated() {
            var dOutput = [Float](repeating: 0, count: cache.rows.count * d)
            var any = false
            for (example, position) in members[piece] {
                guard let g = outputGradients[example] else { continue }
                any = true
                for k in 0..<d { dOutput[position * d + k] += g[k] }
            }
            if any { encoder.backward(cache, outputGradient: dOutput, parameters: parameters, into: &gradients) }
        }
    }
}
