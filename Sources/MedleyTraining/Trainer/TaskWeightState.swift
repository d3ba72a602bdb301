import Foundation
import MedleyModel

/// The weights of the task losses while training, and whatever a weighting learns.
///
/// Each step: ``weight(_:)`` gives λ_m for the gradient computation; after it,
/// ``update(meanLosses:learningRate:beta1:beta2:epsilon:)`` learns from the batch's task losses.
/// A weighting that learns from something else (GradNorm needs each task's gradient norm at
/// the last shared layer) adds its inputs to that update.
struct TaskWeightState: Sendable {
    let tasks: [Task]
    let weighting: TaskWeighting
    /// Uncertainty weighting's s_m, by task index; zeros otherwise.
    private(set) var logVariances: [Float]
    private var firstMoments: [Float]
    private var secondMoments: [Float]
    private var steps: [Int]

    init(tasks: [Task], weighting: TaskWeighting) {
        self.tasks = tasks
        self.weighting = weighting
        logVariances = Array(repeating: 0, count: tasks.count)
        firstMoments = logVariances
        secondMoments = logVariances
        steps = Array(repeating: 0, count: tasks.count)
    }

    /// λ_m: the factor of task `t`'s mean loss in the total (0 for an untrained task).
    func weight(_ t: Int) -> Float {
        switch weighting {
        case .equal: return 1
        case .fixed(let weights): return weights[tasks[t]] ?? 0
        case .uncertainty: return expf(-logVariances[t])
        }
    }

    /// The current weights, by task.
    var weights: [Task: Float] {
        Dictionary(uniqueKeysWithValues: tasks.indices.map { (tasks[$0], weight($0)) })
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
    /// followed by an Adam step on s_m (a task absent from the batch is left alone).
    mutating func update(meanLosses: [Float?], learningRate: Float, beta1: Float, beta2: Float, epsilon: Float) {
        guard case .uncertainty = weighting else { return }
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
