/// Layer normalisation of every row of a matrix (Ba, Kiros & Hinton 2016):
/// `y = (x − mean) / sqrt(var + ε) ⊙ scale + shift`, the mean and (biased) variance taken over
/// the row's d values.
enum LayerNorm {
    /// Keeps small rows (a single repeated value) finite.
    static let epsilon: Float = 1e-6

    /// What the backward pass needs: the normalised rows and each row's 1/σ.
    struct Cache: Sendable {
        var normalized: [Float]
        var inverseDeviations: [Float]
    }

    static func forward(_ x: [Float], rows m: Int, scale: Tensor, shift: Tensor) -> (output: [Float], cache: Cache) {
        let d = scale.count
        precondition(x.count == m * d && shift.count == d, "layer norm: \(x.count) values, width \(d)")
        var normalized = [Float](repeating: 0, count: m * d)
        var inverse = [Float](repeating: 0, count: m)
        var y = [Float](repeating: 0, count: m * d)
        for i in 0..<m {
            var mean: Float = 0
            for k in 0..<d { mean += x[i * d + k] }
            mean /= Float(d)
            var variance: Float = 0
            for k in 0..<d { let c = x[i * d + k] - mean; variance += c * c }
            variance /= Float(d)
            let r = 1 / (variance + epsilon).squareRoot()
            inverse[i] = r
            for k in 0..<d {
                let n = (x[i * d + k] - mean) * r
                normalized[i * d + k] = n
                y[i * d + k] = n * scale.scalars[k] + shift.scalars[k]
            }
        }
        return (y, Cache(normalized: normalized, inverseDeviations: inverse))
    }

    /// Accumulates the scale and shift gradients; returns the input gradient
    /// `dx = (1/σ) (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂))` with `ĝ = dy ⊙ scale`.
    static func backward(_ cache: Cache, outputGradient dy: [Float], scale: Tensor,
                         scaleGradient: inout Tensor, shiftGradient: inout Tensor) -> [Float] {
        let d = scale.count
        let m = cache.inverseDeviations.count
        var dx = [Float](repeating: 0, count: m * d)
        for i in 0..<m {
            var meanG: Float = 0, meanGX: Float = 0
            for k in 0..<d {
                let g = dy[i * d + k]
                let n = cache.normalized[i * d + k]
                scaleGradient.scalars[k] += g * n
                shiftGradient.scalars[k] += g
                let gh = g * scale.scalars[k]
                meanG += gh
                meanGX += gh * n
            }
            meanG /= Float(d)
            meanGX /= Float(d)
            let r = cache.inverseDeviations[i]
            for k in 0..<d {
                let gh = dy[i * d + k] * scale.scalars[k]
                dx[i * d + k] = r * (gh - meanG - cache.normalized[i * d + k] * meanGX)
            }
        }
        return dx
    }
}
