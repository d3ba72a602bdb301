#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The recurrent session encoder: a gated recurrent unit (Cho et al. 2014, as GRU4Rec reads a
/// session) over a sequence of item rows, oldest first, with hidden width d.
///
///     x_j = item.embedding[row_j]                                             (dropout)
///     [i_r; i_z; i_n] = W_i x_j + b_i,   [g_r; g_z; g_n] = W_h h_{j−1} + b_h,   h_{−1} = 0
///     r = σ(i_r + g_r),  z = σ(i_z + g_z),  n = tanh(i_n + r ⊙ g_n)
///     h_j = (1 − z) ⊙ n + z ⊙ h_{j−1}
///
/// (PyTorch's `nn.GRU` gate order and equations.) Row j of the output is h_j, which depends on
/// rows 0…j only, so one pass over a window gives the output for every prefix (whole-sequence
/// training, as for ``SessionAttention``); serving reads the last row. Every coordinate of h_j
/// lies in (−1, 1): it mixes tanh outputs and h_{j−1} convexly, starting from 0. The input
/// projections of all positions are one matrix product; the recurrence is a product per step.
public struct SessionGRU: Sendable {
    public let shape: SessionEncoderShape
    public let dimension: Int
    let input: (weight: String, bias: String)
    let hidden: (weight: String, bias: String)

    public static let prefix = "\(SessionAttention.prefix).gru"

    public init(dimension: Int, shape: SessionEncoderShape) {
        precondition(shape.kind == .gru, "a GRU built from a \(shape.kind) shape")
        self.shape = shape
        self.dimension = dimension
        input = ("\(Self.prefix).input.weight", "\(Self.prefix).input.bias")
        hidden = ("\(Self.prefix).hidden.weight", "\(Self.prefix).hidden.bias")
    }

    /// Every tensor of the encoder with its shape, in the order model files list them.
    public var layoutEntries: [(name: String, shape: [Int])] {
        let d = dimension
        return [(input.weight, [3 * d, d]), (input.bias, [3 * d]), (hidden.weight, [3 * d, d]), (hidden.bias, [3 * d])]
    }

    /// The activations of one pass over a sequence, and its output.
    public struct Cache: Sendable {
        public var rows: [Int]
        var dimension: Int
        /// m × d: the input embeddings after dropout, and the dropout mask (empty without).
        var inputs: [Float] = []
        var inputMask: [Float] = []
        /// m × d each: the gates and the candidate state.
        var reset: [Float] = [], update: [Float] = [], candidate: [Float] = []
        /// m × d: the hidden projection's n part, W_hn h_{j−1} + b_hn, which r multiplies.
        var hiddenCandidate: [Float] = []
        /// m × d: row j is h_j.
        public var output: [Float] = []

        /// The output row after the last item (the serving output); nil for an empty sequence.
        public var lastOutput: [Float]? {
            guard !rows.isEmpty else { return nil }
            return Array(output.suffix(dimension))
        }
    }

    /// The forward pass over `rows` (oldest first), keeping what the backward pass needs.
    public func forward(_ rows: [Int], parameters: ModelParameters, dropout: inout SequenceDropout?) -> Cache {
        var cache = Cache(rows: rows, dimension: dimension)
        let m = rows.count, d = dimension
        guard m > 0 else { return cache }
        let (x, mask, projected) = projectedInputs(rows, parameters: parameters, dropout: &dropout)
        cache.inputMask = mask
        cache.inputs = x
        cache.reset = [Float](repeating: 0, count: m * d)
        cache.update = cache.reset
        cache.candidate = cache.reset
        cache.hiddenCandidate = cache.reset
        cache.output = cache.reset
        var h = [Float](repeating: 0, count: d)
        var g = [Float](repeating: 0, count: 3 * d)
        for j in 0..<m {
            step(&h, projected: projected, position: j, parameters: parameters, scratch: &g) { k, r, z, n, gn in
                cache.reset[j * d + k] = r
                cache.update[j * d + k] = z
                cache.candidate[j * d + k] = n
                cache.hiddenCandidate[j * d + k] = gn
            }
            for k in 0..<d { cache.output[j * d + k] = h[k] }
        }
        return cache
    }

    /// The inference pass: no dropout.
    public func forward(_ rows: [Int], parameters: ModelParameters) -> Cache {
        var none: SequenceDropout? = nil
        return forward(rows, parameters: parameters, dropout: &none)
    }

    /// The serving output: h after the newest row, without keeping the activations; nil for an
    /// empty sequence.
    public func lastOutput(_ rows: [Int], parameters: ModelParameters) -> [Float]? {
        let m = rows.count, d = dimension
        guard m > 0 else { return nil }
        var none: SequenceDropout? = nil
        let projected = projectedInputs(rows, parameters: parameters, dropout: &none).projected
        var h = [Float](repeating: 0, count: d)
        var g = [Float](repeating: 0, count: 3 * d)
        for j in 0..<m {
            step(&h, projected: projected, position: j, parameters: parameters, scratch: &g) { _, _, _, _, _ in }
        }
        return h
    }

    /// The rows' item embeddings (m × d, after dropout when training), the dropout mask, and
    /// their input projection W_i x + b_i for every position at once (m × 3d).
    private func projectedInputs(_ rows: [Int], parameters: ModelParameters, dropout: inout SequenceDropout?)
        -> (inputs: [Float], mask: [Float], projected: [Float]) {
        let d = dimension
        let items = parameters[ParameterLayout.itemEmbedding].scalars
        var x = [Float](repeating: 0, count: rows.count * d)
        for (j, row) in rows.enumerated() {
            for k in 0..<d { x[j * d + k] = items[row * d + k] }
        }
        let mask = SequenceDropout.apply(to: &x, dropout: &dropout)
        let projected = RowwiseLinear.forward(weight: parameters[input.weight], bias: parameters[input.bias], input: x, rows: rows.count)
        return (x, mask, projected)
    }

    /// One recurrence step: `h` ← h_j from h_{j−1} and row j of the input projection; `g` is
    /// left holding W_h h_{j−1} + b_h; `record(k, r, z, n, g_n)` sees each coordinate's gates.
    private func step(_ h: inout [Float], projected: [Float], position j: Int, parameters: ModelParameters,
                      scratch g: inout [Float], record: (Int, Float, Float, Float, Float) -> Void) {
        let d = dimension
        let bias = parameters[hidden.bias].scalars
        for o in 0..<(3 * d) { g[o] = bias[o] }
        h.withUnsafeBufferPointer { hp in
            parameters[hidden.weight].scalars.withUnsafeBufferPointer { w in
                g.withUnsafeMutableBufferPointer { gp in
                    MatrixProduct.multiply(hp.baseAddress!, w.baseAddress!, transposeB: true, into: gp.baseAddress!,
                                           m: 1, n: 3 * d, k: d, beta: 1)
                }
            }
        }
        let base = j * 3 * d
        for k in 0..<d {
            let r = Self.sigmoid(projected[base + k] + g[k])
            let z = Self.sigmoid(projected[base + d + k] + g[d + k])
            let n = tanhf(projected[base + 2 * d + k] + r * g[2 * d + k])
            record(k, r, z, n, g[2 * d + k])
            h[k] = (1 - z) * n + z * h[k]
        }
    }

    static func sigmoid(_ v: Float) -> Float { 1 / (1 + expf(-v)) }

    /// Accumulates into `gradients` the gradient of a loss whose gradient with respect to the
    /// output (m × d, every position; zero rows where a position has no loss) is given, back
    /// through time into the GRU's tensors and the item rows.
    public func backward(_ cache: Cache, outputGradient: [Float], parameters: ModelParameters,
                         into gradients: inout ModelParameters) {
        let m = cache.rows.count, d = dimension
        guard m > 0 else { return }
        precondition(outputGradient.count == m * d, "output gradient of \(outputGradient.count) values for \(m) positions")
        // Per position, the gradients of the input and hidden projections' pre-activations.
        var dProjected = [Float](repeating: 0, count: m * 3 * d)
        var dHiddenProjected = dProjected
        var dh = [Float](repeating: 0, count: d)
        let hiddenWeight = parameters[hidden.weight].scalars
        for j in stride(from: m - 1, through: 0, by: -1) {
            for k in 0..<d { dh[k] += outputGradient[j * d + k] }
            let base = j * 3 * d
            for k in 0..<d {
                let i = j * d + k
                let r = cache.reset[i], z = cache.update[i], n = cache.candidate[i]
                let previous = j > 0 ? cache.output[i - d] : 0
                let dn = dh[k] * (1 - z) * (1 - n * n)
                let dz = dh[k] * (previous - n) * z * (1 - z)
                let dr = dn * cache.hiddenCandidate[i] * r * (1 - r)
                dProjected[base + k] = dr
                dProjected[base + d + k] = dz
                dProjected[base + 2 * d + k] = dn
                dHiddenProjected[base + k] = dr
                dHiddenProjected[base + d + k] = dz
                dHiddenProjected[base + 2 * d + k] = dn * r
                dh[k] *= z
            }
            // dh_{j−1} += W_hᵀ (gradient of the hidden projection at j).
            dHiddenProjected.withUnsafeBufferPointer { gp in
                hiddenWeight.withUnsafeBufferPointer { w in
                    dh.withUnsafeMutableBufferPointer { dp in
                        MatrixProduct.multiply(gp.baseAddress! + base, w.baseAddress!, into: dp.baseAddress!,
                                               m: 1, n: d, k: 3 * d, beta: 1)
                    }
                }
            }
        }
        var dx = gradients.withTensors(input.weight, input.bias) { dw, db in
            RowwiseLinear.backward(weight: parameters[input.weight], input: cache.inputs, rows: m, outputGradient: dProjected,
                                   weightGradient: &dw, biasGradient: &db)
        }
        // The hidden projection read h_{j−1}: the output shifted down a row, zeros first.
        let previous = [Float](repeating: 0, count: d) + cache.output.prefix((m - 1) * d)
        gradients.withTensors(hidden.weight, hidden.bias) { dw, db in
            dHiddenProjected.withUnsafeBufferPointer { gp in
                previous.withUnsafeBufferPointer { hp in
                    dw.scalars.withUnsafeMutableBufferPointer { dwp in
                        MatrixProduct.multiply(gp.baseAddress!, transposeA: true, hp.baseAddress!, into: dwp.baseAddress!,
                                               m: 3 * d, n: d, k: m, beta: 1)
                    }
                }
            }
            db.scalars.withUnsafeMutableBufferPointer { b in
                for j in 0..<m { for o in 0..<(3 * d) { b[o] += dHiddenProjected[j * 3 * d + o] } }
            }
        }
        SequenceDropout.multiply(&dx, by: cache.inputMask)
        gradients.addRows(dx, to: cache.rows, of: ParameterLayout.itemEmbedding)
    }
}
