import Testing
@testable import MedleyModel
@testable import MedleySystem

/// The session attention: finite-difference checks of its layers (layer norm, row-wise linear,
/// causal multi-head attention, whole blocks with dropout) and its causal structure.
@Suite struct SessionAttentionTests {
    private let shape = SessionEncoderShape(length: 5, blocks: 2, heads: 2)

    private func contents() throws -> ModelFileContents {
        try Fixtures.randomContents(sessionEncoder: shape)
    }

    /// A weighted sum of every output, so that each position and coordinate has its own gradient.
    private func weights(_ count: Int) -> [Float] { (0..<count).map { Float(($0 * 7) % 11) * 0.1 - 0.5 } }

    @Test(arguments: [Float(0), 0.3])
    func blocksPositionsAndItemRows(dropoutRate: Float) throws {
        let contents = try contents()
        let p = contents.parameters
        let encoder = SessionAttention(shape: shape, dimension: contents.configuration.embeddingDimension)
        let rows = [3, 0, 7, 3, 5]
        func run(_ q: ModelParameters) -> SessionAttention.Cache {
            // The same seed every time: the finite differences see the same dropout masks.
            var dropout: SequenceDropout? = dropoutRate > 0 ? .init(rate: dropoutRate, generator: SplitMix64(seed: 5)) : nil
            return encoder.forward(rows, parameters: q, dropout: &dropout)
        }
        let cache = run(p)
        let w = weights(cache.output.count)
        var g = ModelParameters(zerosLike: p)
        encoder.backward(cache, outputGradient: w, parameters: p, into: &g)
        let mismatches = gradientMismatches(parameters: p, gradients: g, samplesPerTensor: 16) { q in
            zip(run(q).output, w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(g[SessionAttention(shape: shape, dimension: 4).positionName].scalars.contains { $0 != 0 })
    }

    @Test func layerNormInputGradient() {
        let x: [Float] = [0.3, -1.2, 0.8, 2.0, -0.4, 0.1, 0.9, -0.7]
        let scale = Tensor(shape: [4], scalars: [1.2, 0.7, -0.5, 1])
        let shift = Tensor(shape: [4], scalars: [0.1, 0, -0.2, 0.3])
        let w = weights(8)
        func loss(_ x: [Float]) -> Float { zip(LayerNorm.forward(x, rows: 2, scale: scale, shift: shift).output, w).reduce(0) { $0 + $1.0 * $1.1 } }
        let (_, cache) = LayerNorm.forward(x, rows: 2, scale: scale, shift: shift)
        var ds = Tensor(zeros: [4]), db = Tensor(zeros: [4])
        let dx = LayerNorm.backward(cache, outputGradient: w, scale: scale, scaleGradient: &ds, shiftGradient: &db)
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += 1e-3
            minus[i] -= 1e-3
            #expect(isClose(dx[i], (loss(plus) - loss(minus)) / 2e-3, absolute: 2e-3, relative: 2e-2))
        }
        // Normalised rows have mean 0 and variance 1 before scale and shift.
        let unit = LayerNorm.forward(x, rows: 2, scale: Tensor(shape: [4], scalars: [1, 1, 1, 1]), shift: Tensor(zeros: [4])).output
        #expect(isClose(unit[0..<4].reduce(0, +), 0, absolute: 1e-5))
        #expect(isClose(unit[0..<4].reduce(0) { $0 + $1 * $1 } / 4, 1, absolute: 1e-3))
    }

    /// Position j's output depends on items 0…j only: a prefix gives the same rows, so one
    /// pass over a sequence serves every prefix, and a later item changes nothing before it.
    @Test func outputIsCausal() throws {
        let contents = try contents()
        let encoder = SessionAttention(shape: shape, dimension: 4)
        let full = encoder.forward([3, 0, 7, 3, 5], parameters: contents.parameters).output
        let prefix = encoder.forward([3, 0, 7], parameters: contents.parameters).output
        #expect(allClose(Array(full[0..<12]), prefix, absolute: 1e-5))
        let changed = encoder.forward([3, 0, 7, 8, 5], parameters: contents.parameters).output
        #expect(allClose(Array(changed[0..<12]), prefix, absolute: 1e-5))
        #expect(!allClose(Array(changed[12..<16]), Array(full[12..<16]), absolute: 1e-4))
        // The serving pass (newest position only in the last block) gives the full pass's last row.
        #expect(allClose(encoder.lastOutput([3, 0, 7, 3, 5], parameters: contents.parameters)!, Array(full[16..<20]), absolute: 1e-5))
        #expect(allClose(encoder.lastOutput([3], parameters: contents.parameters)!, Array(full[0..<4]), absolute: 1e-5))
        #expect(encoder.lastOutput([], parameters: contents.parameters) == nil)
        // Order matters: the same items in another order give another last output.
        let swapped = encoder.forward([0, 3, 7, 3, 5], parameters: contents.parameters).lastOutput!
        #expect(!allClose(swapped, Array(full[16..<20]), absolute: 1e-4))
    }

    /// `attention_input` = history reads the known history items then the session's, the newest
    /// n; `session` reads the session's only, whatever the history.
    @Test func sequenceRowsFollowTheAttentionInput() throws {
        var input = Fixtures.sessionInput
        input.history = Fixtures.userHistory
        func rows(_ shape: SessionEncoderShape) throws -> [Int] {
            try MultitaskModel(try Fixtures.randomContents(sessionEncoder: shape)).encode(input).sequenceRows
        }
        // Rows: n2 1, n3 2, v1 3, v2 4, m3 7, m4 8; "gone" and the unknown music event are dropped.
        #expect(try rows(SessionEncoderShape(length: 5, blocks: 1, heads: 1, input: .history)) == [8, 2, 1, 7, 3])
        #expect(try rows(SessionEncoderShape(length: 50, blocks: 1, heads: 1, input: .history)) == [4, 8, 2, 1, 7, 3])
        #expect(try rows(SessionEncoderShape(length: 2, blocks: 1, heads: 1, input: .history)) == [7, 3])
        #expect(try rows(SessionEncoderShape(length: 5, blocks: 1, heads: 1, input: .session)) == [1, 7, 3])
        // A new session's first request: the history alone.
        input.events = []
        #expect(try rows(SessionEncoderShape(length: 2, blocks: 1, heads: 1, input: .history)) == [8, 2])
        #expect(try rows(SessionEncoderShape(length: 3, blocks: 1, heads: 1, input: .session)) == [])
    }

    /// Feeding the network the attention output computed for a whole sequence gives the same
    /// pass as running the attention per example.
    @Test func givenOutputMatchesPerExamplePass() throws {
        let contents = try contents()
        let model = try MultitaskModel(contents)
        let input = try model.encode(Fixtures.sessionInput)
        #expect(input.sequenceRows.count == 3)
        let own = model.network.forward(input, parameters: contents.parameters)
        let whole = model.network.sessionEncoder!.forward(input.sequenceRows + [1, 2], parameters: contents.parameters)
        let given = model.network.forward(input, parameters: contents.parameters,
                                          attentionOutput: Array(whole.output[(2 * 4)..<(3 * 4)]))
        #expect(allClose(own.sessionQuery, given.sessionQuery, absolute: 1e-5))
    }
}
