import Foundation
import Testing
@testable import MedleyModel
@testable import MedleySystem

/// The GRU session encoder: finite-difference checks of its backward pass through time (with
/// and without input dropout), its causal structure, and its serving pass.
@Suite struct SessionGRUTests {
    private let shape = SessionEncoderShape(kind: .gru, length: 5)

    private func contents(seed: UInt64 = 7) throws -> ModelFileContents {
        try Fixtures.randomContents(sessionEncoder: shape, seed: seed)
    }

    /// A weighted sum of every output, so that each position and coordinate has its own gradient.
    private func weights(_ count: Int) -> [Float] { (0..<count).map { Float(($0 * 7) % 11) * 0.1 - 0.5 } }

    @Test(arguments: [Float(0), 0.3])
    func gatesRecurrenceAndItemRows(dropoutRate: Float) throws {
        let contents = try contents()
        let p = contents.parameters
        let gru = SessionGRU(dimension: contents.configuration.embeddingDimension, shape: shape)
        let rows = [3, 0, 7, 3, 5]
        func run(_ q: ModelParameters) -> SessionGRU.Cache {
            // The same seed every time: the finite differences see the same dropout masks.
            var dropout: SequenceDropout? = dropoutRate > 0 ? .init(rate: dropoutRate, generator: SplitMix64(seed: 5)) : nil
            return gru.forward(rows, parameters: q, dropout: &dropout)
        }
        let cache = run(p)
        let w = weights(cache.output.count)
        var g = ModelParameters(zerosLike: p)
        gru.backward(cache, outputGradient: w, parameters: p, into: &g)
        let mismatches = gradientMismatches(parameters: p, gradients: g, samplesPerTensor: 24) { q in
            zip(run(q).output, w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        for name in gru.layoutEntries.map(\.name) {
            #expect(g[name].scalars.contains { $0 != 0 }, "no gradient reached \(name)")
        }
        // Only the sequence's item rows get a gradient; row 3, read twice, gets both positions'.
        let items = g[ParameterLayout.itemEmbedding]
        let d = contents.configuration.embeddingDimension
        for row in 0..<items.rows {
            #expect(items.scalars[(row * d)..<((row + 1) * d)].contains { $0 != 0 } == rows.contains(row), "row \(row)")
        }
    }

    /// Position j's output depends on items 0…j only, the serving pass gives the last row of
    /// the full pass, every coordinate stays in (−1, 1), and order matters.
    @Test func outputIsCausalBoundedAndOrderAware() throws {
        let contents = try contents()
        let p = contents.parameters
        let gru = SessionGRU(dimension: 4, shape: shape)
        let full = gru.forward([3, 0, 7, 3, 5], parameters: p).output
        let prefix = gru.forward([3, 0, 7], parameters: p).output
        #expect(allClose(Array(full[0..<12]), prefix, absolute: 1e-6))
        let changed = gru.forward([3, 0, 7, 8, 5], parameters: p).output
        #expect(allClose(Array(changed[0..<12]), prefix, absolute: 1e-6))
        #expect(!allClose(Array(changed[12..<16]), Array(full[12..<16]), absolute: 1e-4))
        #expect(allClose(gru.lastOutput([3, 0, 7, 3, 5], parameters: p)!, Array(full[16..<20]), absolute: 1e-6))
        #expect(gru.lastOutput([], parameters: p) == nil)
        #expect(full.allSatisfy { abs($0) < 1 })
        let swapped = gru.forward([0, 3, 7, 3, 5], parameters: p).lastOutput!
        #expect(!allClose(swapped, Array(full[16..<20]), absolute: 1e-4))
    }

    /// One step by hand: from h = 0, g = b_h, so h₀ = (1 − z) ⊙ n with the gates of the first
    /// item's projection; the reset gate multiplies the hidden bias's n part.
    @Test func firstStepMatchesTheEquations() throws {
        let contents = try contents(seed: 3)
        let p = contents.parameters
        let d = 4
        let gru = SessionGRU(dimension: d, shape: shape)
        let x = p[ParameterLayout.itemEmbedding].row(2)
        let wi = p["session_encoder.gru.input.weight"], bi = p["session_encoder.gru.input.bias"].scalars
        let bh = p["session_encoder.gru.hidden.bias"].scalars
        func projected(_ o: Int) -> Float { zip(wi.row(o), x).reduce(bi[o]) { $0 + $1.0 * $1.1 } }
        func sigmoid(_ v: Float) -> Float { 1 / (1 + exp(-v)) }
        let expected = (0..<d).map { k -> Float in
            let r = sigmoid(projected(k) + bh[k]), z = sigmoid(projected(d + k) + bh[d + k])
            let n = tanh(projected(2 * d + k) + r * bh[2 * d + k])
            return (1 - z) * n
        }
        #expect(allClose(gru.lastOutput([2], parameters: p)!, expected, absolute: 1e-6))
    }
}
