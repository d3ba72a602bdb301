/// The convex combination of task gradients with the smallest norm, the step direction of
/// MGDA (Sener & Koltun 2018, "Multi-Task Learning as Multi-Objective Optimization"):
///
///     min_α ‖Σ_t α_t g_t‖²   subject to α_t ≥ 0, Σ_t α_t = 1
///
/// computed from the Gram matrix G[s][t] = ⟨g_s, g_t⟩ only, so the gradients themselves may be
/// as large as a batch's representation gradients. Two tasks have a closed form; more are
/// solved by Frank–Wolfe with exact line search, started from the best pair, as in the paper.
public enum MinimumNormCombination {
    /// The weights α (one per row of `gram`, summing to 1) of the minimum-norm element of the
    /// convex hull of the gradients whose Gram matrix is `gram` (row-major, n × n).
    ///
    /// - Parameters:
    ///   - maxIterations: Frank–Wolfe steps at most (n > 2).
    ///   - tolerance: stop when a step moves α by less than this (Euclidean norm).
    public static func weights(gram: [Double], count n: Int, maxIterations: Int = 250,
                               tolerance: Double = 1e-9) -> [Double] {
        precondition(n >= 1 && gram.count == n * n, "the Gram matrix must be n × n")
        if n == 1 { return [1] }
        func g(_ s: Int, _ t: Int) -> Double { gram[s * n + t] }

        // The best pair: the smallest of the two-task minima.
        var best = (cost: Double.infinity, s: 0, t: 1, gamma: 1.0)
        for s in 0..<n {
            for t in (s + 1)..<n {
                let (gamma, cost) = twoPoint(aa: g(s, s), ab: g(s, t), bb: g(t, t))
                if cost < best.cost { best = (cost, s, t, gamma) }
            }
        }
        var alpha = [Double](repeating: 0, count: n)
        alpha[best.s] = best.gamma
        alpha[best.t] = 1 - best.gamma
        if n == 2 { return alpha }

        for _ in 0..<maxIterations {
            // Gα, and the vertex whose gradient agrees least with the current combination.
            var gAlpha = [Double](repeating: 0, count: n)
            for s in 0..<n { for t in 0..<n { gAlpha[s] += g(s, t) * alpha[t] } }
            let vertex = gAlpha.indices.min { gAlpha[$0] < gAlpha[$1] }!
            let current = zip(alpha, gAlpha).reduce(0) { $0 + $1.0 * $1.1 }
            let (gamma, _) = twoPoint(aa: current, ab: gAlpha[vertex], bb: g(vertex, vertex))
            var next = alpha.map { gamma * $0 }
            next[vertex] += 1 - gamma
            let moved = zip(next, alpha).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            alpha = next
            if moved < tolerance { break }
        }
        return alpha
    }

    /// min over γ ∈ [0, 1] of ‖γ a + (1 − γ) b‖², from ⟨a,a⟩, ⟨a,b⟩, ⟨b,b⟩: (γ, the minimum).
    static func twoPoint(aa: Double, ab: Double, bb: Double) -> (gamma: Double, cost: Double) {
        if ab >= aa { return (1, aa) }
        if ab >= bb { return (0, bb) }
        let gamma = (bb - ab) / (aa + bb - 2 * ab)
        return (gamma, gamma * gamma * aa + 2 * gamma * (1 - gamma) * ab + (1 - gamma) * (1 - gamma) * bb)
    }
}
