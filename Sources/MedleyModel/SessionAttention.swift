import MedleySystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The order-aware session encoder: SASRec-style causal self-attention (Kang & McAuley 2018)
/// over a sequence of item rows, oldest first, computed for every position at once.
///
///     h⁰_j = item.embedding[row_j] + position[j]                   (dropout)
///     per block:  a = LN₁(h);  Q, K, V = a W_qᵀ + b_q, …            (per head, width d / H)
///                 P = softmax(Q Kᵀ / √(d/H)) with position j seeing positions ≤ j only
///                 h ← h + (concat_heads(P V) W_oᵀ + b_o)             (dropout)
///                 h ← h + FFN(LN₂(h)),  FFN(c) = ReLU(c W₁ᵀ + b₁) W₂ᵀ + b₂   (dropout)
///     y = LN_final(h)
///
/// Row j of y depends on rows 0…j only, so one pass over a user's sequence gives the encoder
/// output for every prefix (whole-sequence training); serving reads the last row. Matrix
/// products go through OpenBLAS (``MatrixProduct``). Dropout is applied only when a rate and
/// a generator are given (training).
public struct SessionAttention: Sendable {
    public let shape: SessionEncoderShape
    public let dimension: Int
    let positionName: String
    let blockNames: [BlockNames]
    let finalScale: String
    let finalShift: String

    struct BlockNames: Sendable {
        var attentionScale, attentionShift: String
        var query, key, value, output: (weight: String, bias: String)
        var feedForwardScale, feedForwardShift: String
        var inner, outer: (weight: String, bias: String)
    }

    public static let prefix = "session_encoder"

    public init(shape: SessionEncoderShape, dimension: Int) {
        self.shape = shape
        self.dimension = dimension
        let p = Self.prefix
        positionName = "\(p).position.embedding"
        blockNames = (0..<shape.blocks).map { b in
            let block = "\(p).blocks.\(b)"
            func linear(_ name: String) -> (String, String) { ("\(block).\(name).weight", "\(block).\(name).bias") }
            return BlockNames(
                attentionScale: "\(block).attention_norm.scale", attentionShift: "\(block).attention_norm.shift",
                query: linear("query"), key: linear("key"), value: linear("value"), output: linear("output"),
                feedForwardScale: "\(block).feed_forward_norm.scale", feedForwardShift: "\(block).feed_forward_norm.shift",
                inner: linear("feed_forward.layers.0"), outer: linear("feed_forward.layers.1"))
        }
        finalScale = "\(p).final_norm.scale"
        finalShift = "\(p).final_norm.shift"
    }

    /// Every tensor of the encoder with its shape, in the order model files list them.
    public var layoutEntries: [(name: String, shape: [Int])] {
        let d = dimension
        var entries: [(String, [Int])] = [(positionName, [shape.length, d])]
        for names in blockNames {
            entries += [(names.attentionScale, [d]), (names.attentionShift, [d])]
            for linear in [names.query, names.key, names.value, names.output] {
                entries += [(linear.weight, [d, d]), (linear.bias, [d])]
            }
            entries += [(names.feedForwardScale, [d]), (names.feedForwardShift, [d])]
            for linear in [names.inner, names.outer] {
                entries += [(linear.weight, [d, d]), (linear.bias, [d])]
            }
        }
        entries += [(finalScale, [d]), (finalShift, [d])]
        return entries
    }

    struct BlockCache: Sendable {
        var attentionNorm: LayerNorm.Cache
        var normalizedInput: [Float]
        var queries: [Float], keys: [Float], values: [Float]
        /// Per head, the m × m attention probabilities (zero above the diagonal).
        var probabilities: [[Float]]
        var attended: [Float]
        var attentionMask: [Float]
        var afterAttention: [Float]
        var feedForwardNorm: LayerNorm.Cache
        var feedForwardInput: [Float]
        var innerPreActivation: [Float]
        var inner: [Float]
        var feedForwardMask: [Float]
    }

    /// The activations of one pass over a sequence, and its output.
    public struct Cache: Sendable {
        public var rows: [Int]
        var dimension: Int
        var embeddingMask: [Float] = []
        var blocks: [BlockCache] = []
        var finalNorm: LayerNorm.Cache?
        /// m × d: row j is the encoder output after the items 0…j.
        public var output: [Float] = []

        /// The output row after the last item (the serving output); nil for an empty sequence.
        public var lastOutput: [Float]? {
            guard !rows.isEmpty else { return nil }
            return Array(output.suffix(dimension))
        }
    }

    /// The forward pass over `rows` (oldest first, at most ``SessionEncoderShape/length``).
    ///
    /// With `lastRowOnly` (serving, which reads only the newest position) the last block
    /// computes the query, attention, feed-forward and final norm of the newest position alone
    /// (it still needs every position's keys and values); the cache then holds one output row
    /// and is not for ``backward(_:outputGradient:parameters:into:)``.
    public func forward(_ rows: [Int], parameters: ModelParameters, dropout: inout SequenceDropout?,
                        lastRowOnly: Bool = false) -> Cache {
        precondition(rows.count <= shape.length, "a sequence of \(rows.count) items, the encoder reads \(shape.length)")
        var cache = Cache(rows: rows, dimension: dimension)
        let m = rows.count, d = dimension
        guard m > 0 else { return cache }
        let items = parameters[ParameterLayout.itemEmbedding].scalars
        let positions = parameters[positionName].scalars
        var h = [Float](repeating: 0, count: m * d)
        for (j, row) in rows.enumerated() {
            for k in 0..<d { h[j * d + k] = items[row * d + k] + positions[j * d + k] }
        }
        cache.embeddingMask = SequenceDropout.apply(to: &h, dropout: &dropout)
        // r: the positions whose output this block computes (the newest r of the m).
        var r = m
        for (b, names) in blockNames.enumerated() {
            let (a, norm1) = LayerNorm.forward(h, rows: r, scale: parameters[names.attentionScale], shift: parameters[names.attentionShift])
            let k = RowwiseLinear.forward(weight: parameters[names.key.weight], bias: parameters[names.key.bias], input: a, rows: m)
            let v = RowwiseLinear.forward(weight: parameters[names.value.weight], bias: parameters[names.value.bias], input: a, rows: m)
            if lastRowOnly && b == blockNames.count - 1 {
                r = 1
                h = Array(h.suffix(d))
            }
            let q = RowwiseLinear.forward(weight: parameters[names.query.weight], bias: parameters[names.query.bias],
                                          input: Array(a.suffix(r * d)), rows: r)
            let (attended, probabilities) = attend(queries: q, queryRows: r, keys: k, values: v, rows: m)
            var o = RowwiseLinear.forward(weight: parameters[names.output.weight], bias: parameters[names.output.bias],
                                          input: attended, rows: r)
            let attentionMask = SequenceDropout.apply(to: &o, dropout: &dropout)
            for i in h.indices { h[i] += o[i] }
            let afterAttention = h
            let (c, norm2) = LayerNorm.forward(h, rows: r, scale: parameters[names.feedForwardScale],
                                               shift: parameters[names.feedForwardShift])
            let z = RowwiseLinear.forward(weight: parameters[names.inner.weight], bias: parameters[names.inner.bias], input: c, rows: r)
            let inner = ReLU.forward(z)
            var f = RowwiseLinear.forward(weight: parameters[names.outer.weight], bias: parameters[names.outer.bias],
                                          input: inner, rows: r)
            let feedForwardMask = SequenceDropout.apply(to: &f, dropout: &dropout)
            for i in h.indices { h[i] += f[i] }
            cache.blocks.append(BlockCache(
                attentionNorm: norm1, normalizedInput: a, queries: q, keys: k, values: v, probabilities: probabilities,
                attended: attended, attentionMask: attentionMask, afterAttention: afterAttention, feedForwardNorm: norm2,
                feedForwardInput: c, innerPreActivation: z, inner: inner, feedForwardMask: feedForwardMask))
        }
        let (y, finalNorm) = LayerNorm.forward(h, rows: r, scale: parameters[finalScale], shift: parameters[finalShift])
        cache.finalNorm = finalNorm
        cache.output = y
        return cache
    }

    /// The inference pass: no dropout.
    public func forward(_ rows: [Int], parameters: ModelParameters) -> Cache {
        var none: SequenceDropout? = nil
        return forward(rows, parameters: parameters, dropout: &none)
    }

    /// The serving output: the newest position's row, computed without the other positions'
    /// last-block work; nil for an empty sequence.
    public func lastOutput(_ rows: [Int], parameters: ModelParameters) -> [Float]? {
        var none: SequenceDropout? = nil
        return forward(rows, parameters: parameters, dropout: &none, lastRowOnly: true).lastOutput
    }

    /// Causal multi-head attention of the newest `r` positions' queries over all `m` keys:
    /// per head, P = softmax(Q_h K_hᵀ / √(d/H)) with query row i (position m − r + i) seeing
    /// positions ≤ m − r + i, and the output columns of that head are P V_h (r × d).
    private func attend(queries q: [Float], queryRows r: Int, keys k: [Float], values v: [Float], rows m: Int) -> ([Float], [[Float]]) {
        let d = dimension, heads = shape.heads, width = d / heads
        let scale = 1 / Float(width).squareRoot()
        var out = [Float](repeating: 0, count: r * d)
        var probabilities: [[Float]] = []
        for head in 0..<heads {
            var s = [Float](repeating: 0, count: r * m)
            q.withUnsafeBufferPointer { qp in
                k.withUnsafeBufferPointer { kp in
                    s.withUnsafeMutableBufferPointer { sp in
                        MatrixProduct.multiply(qp.baseAddress! + head * width, lda: d, kp.baseAddress! + head * width,
                                               transposeB: true, ldb: d, into: sp.baseAddress!, m: r, n: m, k: width, alpha: scale)
                    }
                }
            }
            for i in 0..<r {
                let position = m - r + i
                var maximum = -Float.infinity
                for j in 0...position { maximum = max(maximum, s[i * m + j]) }
                var total: Float = 0
                for j in 0...position {
                    let e = expf(s[i * m + j] - maximum)
                    s[i * m + j] = e
                    total += e
                }
                for j in 0...position { s[i * m + j] /= total }
                for j in (position + 1)..<m { s[i * m + j] = 0 }
            }
            s.withUnsafeBufferPointer { sp in
                v.withUnsafeBufferPointer { vp in
                    out.withUnsafeMutableBufferPointer { op in
                        MatrixProduct.multiply(sp.baseAddress!, vp.baseAddress! + head * width, ldb: d,
                                               into: op.baseAddress! + head * width, ldc: d, m: r, n: width, k: m)
                    }
                }
            }
            probabilities.append(s)
        }
        return (out, probabilities)
    }

    /// Accumulates into `gradients` the gradient of a loss whose gradient with respect to the
    /// output (m × d, every position; zero rows where a position has no loss) is given,
    /// through the blocks into the position table and the item rows.
    public func backward(_ cache: Cache, outputGradient: [Float], parameters: ModelParameters,
                         into gradients: inout ModelParameters) {
        let m = cache.rows.count, d = dimension
        guard m > 0, let finalNorm = cache.finalNorm else { return }
        precondition(outputGradient.count == m * d, "output gradient of \(outputGradient.count) values for \(m) positions")
        var dh = gradients.withTensors(finalScale, finalShift) { a, b in
            LayerNorm.backward(finalNorm, outputGradient: outputGradient, scale: parameters[finalScale],
                               scaleGradient: &a, shiftGradient: &b)
        }
        for (names, block) in zip(blockNames, cache.blocks).reversed() {
            // Feed-forward residual: h_out = h_mid + mask ⊙ FFN(LN₂(h_mid)).
            var df = dh
            SequenceDropout.multiply(&df, by: block.feedForwardMask)
            var dInner = linearBackward(names.outer, input: block.inner, rows: m, outputGradient: df,
                                        parameters: parameters, gradients: &gradients)
            dInner = ReLU.backward(preActivation: block.innerPreActivation, outputGradient: dInner)
            let dc = linearBackward(names.inner, input: block.feedForwardInput, rows: m, outputGradient: dInner,
                                    parameters: parameters, gradients: &gradients)
            let dMid = gradients.withTensors(names.feedForwardScale, names.feedForwardShift) { a, b in
                LayerNorm.backward(block.feedForwardNorm, outputGradient: dc, scale: parameters[names.feedForwardScale],
                                   scaleGradient: &a, shiftGradient: &b)
            }
            for i in dh.indices { dh[i] += dMid[i] }
            // Attention residual: h_mid = h_in + mask ⊙ (attend(LN₁(h_in)) W_oᵀ + b_o).
            var dO = dh
            SequenceDropout.multiply(&dO, by: block.attentionMask)
            let dAttended = linearBackward(names.output, input: block.attended, rows: m, outputGradient: dO,
                                           parameters: parameters, gradients: &gradients)
            let (dq, dk, dv) = attendBackward(block, outputGradient: dAttended, rows: m)
            var da = linearBackward(names.query, input: block.normalizedInput, rows: m, outputGradient: dq,
                                    parameters: parameters, gradients: &gradients)
            let daK = linearBackward(names.key, input: block.normalizedInput, rows: m, outputGradient: dk,
                                     parameters: parameters, gradients: &gradients)
            let daV = linearBackward(names.value, input: block.normalizedInput, rows: m, outputGradient: dv,
                                     parameters: parameters, gradients: &gradients)
            for i in da.indices { da[i] += daK[i] + daV[i] }
            let dIn = gradients.withTensors(names.attentionScale, names.attentionShift) { a, b in
                LayerNorm.backward(block.attentionNorm, outputGradient: da, scale: parameters[names.attentionScale],
                                   scaleGradient: &a, shiftGradient: &b)
            }
            for i in dh.indices { dh[i] += dIn[i] }
        }
        SequenceDropout.multiply(&dh, by: cache.embeddingMask)
        gradients.tensors[positionName]!.scalars.withUnsafeMutableBufferPointer { g in
            for i in 0..<(m * d) { g[i] += dh[i] }
        }
        gradients.addRows(dh, to: cache.rows, of: ParameterLayout.itemEmbedding)
    }

    /// The gradients of Q, K and V from the gradient of the attended values.
    private func attendBackward(_ block: BlockCache, outputGradient dOut: [Float], rows m: Int) -> ([Float], [Float], [Float]) {
        let d = dimension, heads = shape.heads, width = d / heads
        let scale = 1 / Float(width).squareRoot()
        var dq = [Float](repeating: 0, count: m * d)
        var dk = dq, dv = dq
        var dp = [Float](repeating: 0, count: m * m)
        for head in 0..<heads {
            let p = block.probabilities[head]
            let offset = head * width
            dOut.withUnsafeBufferPointer { g in
                block.values.withUnsafeBufferPointer { vp in
                    dp.withUnsafeMutableBufferPointer { dpp in
                        // dP = dO_h V_hᵀ
                        MatrixProduct.multiply(g.baseAddress! + offset, lda: d, vp.baseAddress! + offset, transposeB: true,
                                               ldb: d, into: dpp.baseAddress!, m: m, n: m, k: width)
                    }
                }
                p.withUnsafeBufferPointer { pp in
                    dv.withUnsafeMutableBufferPointer { dvp in
                        // dV_h = Pᵀ dO_h
                        MatrixProduct.multiply(pp.baseAddress!, transposeA: true, lda: m, g.baseAddress! + offset, ldb: d,
                                               into: dvp.baseAddress! + offset, ldc: d, m: m, n: width, k: m)
                    }
                }
            }
            // dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale; zero above the diagonal since P is.
            for i in 0..<m {
                var inner: Float = 0
                for j in 0...i { inner += dp[i * m + j] * p[i * m + j] }
                for j in 0..<m { dp[i * m + j] = j <= i ? p[i * m + j] * (dp[i * m + j] - inner) * scale : 0 }
            }
            dp.withUnsafeBufferPointer { ds in
                block.keys.withUnsafeBufferPointer { kp in
                    dq.withUnsafeMutableBufferPointer { dqp in
                        // dQ_h = dS K_h
                        MatrixProduct.multiply(ds.baseAddress!, kp.baseAddress! + offset, ldb: d,
                                               into: dqp.baseAddress! + offset, ldc: d, m: m, n: width, k: m)
                    }
                }
                block.queries.withUnsafeBufferPointer { qp in
                    dk.withUnsafeMutableBufferPointer { dkp in
                        // dK_h = dSᵀ Q_h
                        MatrixProduct.multiply(ds.baseAddress!, transposeA: true, lda: m, qp.baseAddress! + offset, ldb: d,
                                               into: dkp.baseAddress! + offset, ldc: d, m: m, n: width, k: m)
                    }
                }
            }
        }
        return (dq, dk, dv)
    }

    private func linearBackward(_ names: (weight: String, bias: String), input: [Float], rows m: Int, outputGradient: [Float],
                                parameters: ModelParameters, gradients: inout ModelParameters) -> [Float] {
        gradients.withTensors(names.weight, names.bias) { a, b in
            RowwiseLinear.backward(weight: parameters[names.weight], input: input, rows: m, outputGradient: outputGradient,
                                   weightGradient: &a, biasGradient: &b)
        }
    }
}
