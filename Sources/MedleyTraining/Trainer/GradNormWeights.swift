import Foundation

/// GradNorm's learned task weights (Chen, Badrinarayanan, Lee & Rabinovich 2018, "GradNorm:
/// Gradient Normalization for Adaptive Loss Balancing in Deep Multitask Networks").
///
/// After each batch, with G_t = ‖∇_Z w_t L_t‖ the norm of task t's weighted gradient with
/// respect to the shared representation Z, Ḡ their mean, L̃_t = L_t / L_t(0) the task's loss
/// relative to its first batch and r_t = L̃_t / mean(L̃) its relative inverse training rate,
/// the weights take one Adam step on
///
///     L_grad = Σ_t | G_t − Ḡ · r_t^α |        (the targets Ḡ · r_t^α held constant)
///
/// whose derivative is sign(G_t − target_t) · G_t / w_t; then they are floored at
/// ``minimumWeight`` and renormalised to sum to the number of tasks. A task whose gradient is
/// larger than its share loses weight; a task that trains more slowly than the others gains.
/// The paper measures G_t at the last shared layer's weights; the representation is used here,
/// as MGDA-UB does, which needs no extra backward pass.
struct GradNormWeights: Sendable {
    /// The asymmetry α: 0 pulls every gradient norm to the mean; larger values favour slow tasks.
    let alpha: Float
    /// The weights, one per task, summing to the task count.
    private(set) var weights: [Float]
    private var initialLosses: [Float?]
    private var firstMoments: [Float]
    private var secondMoments: [Float]
    private var steps = 0

    /// A weight never falls below this before renormalising, so no task is switched off for good.
    static let minimumWeight: Float = 0.01

    init(taskCount: Int, alpha: Float) {
        self.alpha = alpha
        weights = Array(repeating: 1, count: taskCount)
        initialLosses = Array(repeating: nil, count: taskCount)
        firstMoments = Array(repeating: 0, count: taskCount)
        secondMoments = firstMoments
    }

    /// One step from a batch. `losses[t]` is task t's mean loss and `gradientNorms[t]` its G_t
    /// (both nil when the batch has no example of the task, which then keeps its weight).
    mutating func update(losses: [Float?], gradientNorms: [Float?], learningRate: Float,
                         beta1: Float, beta2: Float, epsilon: Float) {
        var present: [Int] = []
        for t in weights.indices {
            guard let loss = losses[t], let norm = gradientNorms[t], loss.isFinite, norm.isFinite else { continue }
            if initialLosses[t] == nil, loss > 0 { initialLosses[t] = loss }
            if initialLosses[t] != nil { present.append(t) }
        }
        guard present.count >= 2 else { return }
        let relative = present.map { losses[$0]! / initialLosses[$0]! }
        let meanRelative = relative.reduce(0, +) / Float(present.count)
        let meanNorm = present.reduce(Float(0)) { $0 + gradientNorms[$1]! } / Float(present.count)
        guard meanRelative > 0 else { return }
        steps += 1
        for (k, t) in present.enumerated() {
            let norm = gradientNorms[t]!
            let target = meanNorm * powf(relative[k] / meanRelative, alpha)
            let difference = norm - target
            let g = (difference > 0 ? 1 : difference < 0 ? -1 : 0) * norm / max(weights[t], Self.minimumWeight)
            firstMoments[t] = beta1 * firstMoments[t] + (1 - beta1) * g
            secondMoments[t] = beta2 * secondMoments[t] + (1 - beta2) * g * g
            let mHat = firstMoments[t] / (1 - powf(beta1, Float(steps)))
            let vHat = secondMoments[t] / (1 - powf(beta2, Float(steps)))
            weights[t] = max(Self.minimumWeight, weights[t] - learningRate * mHat / (vHat.squareRoot() + epsilon))
        }
        let total = weights.reduce(0, +)
        let scale = Float(weights.count) / total
        for t in weights.indices { weights[t] *= scale }
    }
}
