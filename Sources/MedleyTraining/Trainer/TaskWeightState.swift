import Foundation
import MedleyModel

/// The weights of the task losses while training, and whatever a weighting learns.
///
/// Each step: ``weight(_:)`` gives λ_m for the gradient computation; after it,
/// ``update(meanLosses:gradientNorms:learningRate:beta1:beta2:epsilon:)`` learns from the
/// batch's task losses (uncertainty) and the norms of the tasks' gradients at the shared
/// representation (GradNorm). MGDA sets the weights inside the step instead, from the tasks'
/// gradients of that very batch (``combine(gram:present:)``).
struct TaskWeightState: Sendable {
    let tasks: [Task]
    let weighting: TaskWeighting
    /// Uncertainty weighting's s_m, by task index; zeros otherwise.
    private(set) var logVariances: [Float]
    private var firstMoments: [Float]
    private var secondMoments: [Float]
    private var steps: [Int]
    private var gradNorm: GradNormWeights?
    /// MGDA's weights of the last batch, and their sums and count since ``startEpoch()``.
    private var mgdaWeights: [Float]
    private var mgdaSums: [Double]
    private var mgdaBatches = 0

    init(tasks: [Task], weighting: TaskWeighting) {
        self.tasks = tasks
        self.weighting = weighting
        logVariances = Array(repeating: 0, count: tasks.count)
        firstMoments = logVariances
        secondMoments = logVariances
        steps = Array(repeating: 0, count: tasks.count)
        if case .gradNorm(let alpha) = weighting { gradNorm = GradNormWeights(taskCount: tasks.count, alpha: alpha) }
        mgdaWeights = Array(repeating: 1, count: tasks.count)
        mgdaSums = Array(repeating: 0, count: tasks.count)
    }

    /// Whether the weights are chosen inside each step from that step's per-task gradients.
    var combinesWithinStep: Bool { weighting == .mgda }

    /// Whether ``update(meanLosses:gradientNorms:learningRate:beta1:beta2:epsilon:)`` needs the
    /// tasks' gradient norms at the shared representation.
    var needsGradientNorms: Bool {
        if case .gradNorm = weighting { return true }
        return false
    }

    /// λ_m: the factor of task `t`'s mean loss in the total (0 for an untrained task).
    func weight(_ t: Int) -> Float {
        switch weighting {
        case .equal: return 1
        case .fixed(let weights): return weights[tasks[t]] ?? 0
        case .uncertainty: return expf(-logVariances[t])
        case .gradNorm: return gradNorm!.weights[t]
        case .mgda: return mgdaWeights[t]
        }
    }

    /// The current weights, by task; for MGDA, whose weights change every batch, their mean
    /// over the batches since ``startEpoch()``.
    var weights: [Task: Float] {
        if weighting == .mgda, mgdaBatches > 0 {
            return Dictionary(uniqueKeysWithValues: tasks.indices.map { (tasks[$0], Float(mgdaSums[$0] / Double(mgdaBatches))) })
        }
        return Dictionary(uniqueKeysWithValues: tasks.indices.map { (tasks[$0], weight($0)) })
    }

    /// Starts a new epoch's averages of MGDA's weights.
    mutating func startEpoch() {
        mgdaSums = mgdaSums.map { _ in 0 }
        mgdaBatches = 0
    }

    /// MGDA-UB: sets the weights of this batch from the Gram matrix of the tasks' (unweighted
    /// mean-loss) gradients with respect to the shared representation, row-major over task
    /// indices; tasks not `present` in the batch get weight 0. The weights of the present
    /// tasks sum to their number, so that the step's scale is that of equal weighting.
    mutating func combine(gram: [Double], present: [Bool]) -> [Float] {
        let n = tasks.count
        let members = (0..<n).filter { present[$0] }
        var weights = [Float](repeating: 0, count: n)
        if !members.isEmpty {
            let sub = members.flatMap { s in members.map { t in gram[s * n + t] } }
            let alpha = MinimumNormCombination.weights(gram: sub, count: members.count)
            for (k, t) in members.enumerated() { weights[t] = Float(alpha[k] * Double(members.count)) }
        }
        mgdaWeights = weights
        for t in 0..<n { mgdaSums[t] += Double(weights[t]) }
        mgdaBatches += 1
        return weights
    }

    /// The total loss the optimiser follows, given the tasks' mean losses (nil: no example).
    func totalLoss(meanLosses: [Float?]) -> Float {
        var total: Float = 0
        for (t, loss) in meanLosses.enumerated() {
            guard let loss else { continue }
            total += weight(t) * loss
            if case .uncertainty = weighting { total += logVariances[t] }
        }
        return total
    }

    /// Learns from one batch. Uncertainty weighting: d/ds_m [exp(−s_m) L_m + s_m] = 1 − exp(−s_m) L_m,
    /// followed by an Adam step on s_m (a task absent from the batch is left alone). GradNorm:
    /// ``GradNormWeights/update(losses:gradientNorms:learningRate:beta1:beta2:epsilon:)``.
    mutating func update(meanLosses: [Float?], gradientNorms: [Float?], learningRate: Float, beta1: Float, beta2: Float,
                         epsilon: Float) {
        switch weighting {
        case .equal, .fixed, .mgda:
            return
        case .gradNorm:
            gradNorm!.update(losses: meanLosses, gradientNorms: gradientNorms, learningRate: learningRate,
                             beta1: beta1, beta2: beta2, epsilon: epsilon)
        case .uncertainty:
            for (t, loss) in meanLosses.enumerated() {
                guard let loss else { continue }
                let g = 1 - expf(-logVariances[t]) * loss
                steps[t] += 1
                firstMoments[t] = beta1 * firstMoments[t] + (1 - beta1) * g
                secondMoments[t] = beta2 * secondMoments[t] + (1 - beta2) * g * g
                let mHat = firstMoments[t] / (1 - powf(beta1, Float(steps[t])))
                let vHat = secondMoments[t] / (1 - powf(beta2, Float(steps[t])))
                logVariances[t] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
            }
        }
    }
}
