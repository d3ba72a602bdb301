import Foundation
import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining

/// MGDA's minimum-norm combination, GradNorm's weight updates, and the two-half gradient
/// computation MGDA relies on.
@Suite struct TaskWeightingTests {
    typealias F = TrainerFixtures

    /// The Gram matrix of row vectors.
    private func gram(_ vectors: [[Double]]) -> [Double] {
        vectors.flatMap { a in vectors.map { b in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } } }
    }

    @Test func twoTasksMinimumNorm() {
        // g1 = (1, 0), g2 = (0, 2): min over γ of γ² + 4(1 − γ)² at γ = 4/5; norm² 4/5.
        let alpha = MinimumNormCombination.weights(gram: gram([[1, 0], [0, 2]]), count: 2)
        #expect(abs(alpha[0] - 0.8) < 1e-12 && abs(alpha[1] - 0.2) < 1e-12)
        // One gradient inside the other's half-space past it: the smaller one alone.
        let dominated = MinimumNormCombination.weights(gram: gram([[1, 0], [3, 1]]), count: 2)
        #expect(dominated == [1, 0])
    }

    @Test func threeTasksMinimumNorm() {
        // g = (2,0,0), (0,1,0), (0,0,1): minimise 4a² + b² + c² with a + b + c = 1, so
        // α ∝ (1/4, 1, 1) = (1/9, 4/9, 4/9), norm² 4/9.
        let alpha = MinimumNormCombination.weights(gram: gram([[2, 0, 0], [0, 1, 0], [0, 0, 1]]), count: 3)
        for (a, expected) in zip(alpha, [1.0 / 9, 4.0 / 9, 4.0 / 9]) { #expect(abs(a - expected) < 1e-6) }
        // (1,0), (0,1), (1,1): the nearest point of the hull is (½, ½), the third gradient unused.
        let edge = MinimumNormCombination.weights(gram: gram([[1, 0], [0, 1], [1, 1]]), count: 3)
        for (a, expected) in zip(edge, [0.5, 0.5, 0]) { #expect(abs(a - expected) < 1e-6) }
        // Four gradients in the plane whose hull holds the origin: a zero-norm combination.
        let vectors: [[Double]] = [[1, 0.2], [-0.5, 1], [-0.6, -0.9], [2, 2]]
        let mixed = MinimumNormCombination.weights(gram: gram(vectors), count: 4, maxIterations: 5000)
        var point = [0.0, 0.0]
        for (a, v) in zip(mixed, vectors) { point[0] += a * v[0]; point[1] += a * v[1] }
        #expect(abs(mixed.reduce(0, +) - 1) < 1e-9 && mixed.allSatisfy { $0 >= 0 })
        #expect((point[0] * point[0] + point[1] * point[1]).squareRoot() < 1e-2)
    }

    /// Two tasks with equal training rates, task 0's gradient four times task 1's: GradNorm
    /// takes weight from task 0 and gives it to task 1 until the weighted norms meet, keeping
    /// the sum at 2.
    @Test func gradNormBalancesGradientNorms() {
        var state = GradNormWeights(taskCount: 2, alpha: 1.5)
        for step in 0..<3000 {
            let loss = Float(2) * expf(-Float(step) / 1000)
            let w = state.weights
            state.update(losses: [loss, loss], gradientNorms: [4 * w[0], 1 * w[1]], learningRate: 0.002,
                         beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
            #expect(abs(state.weights.reduce(0, +) - 2) < 1e-4)
        }
        let w = state.weights
        #expect(w[0] < 0.6 && w[1] > 1.4, "weights \(w)")
        #expect(abs(4 * w[0] - w[1]) < 0.1 * w[1], "weighted norms \(4 * w[0]) and \(w[1]) should meet")
    }

    /// Equal gradients, task 1's loss falling more slowly: task 1 is behind (r > 1), so its
    /// target norm is larger and it gains weight; with α = 0 the rates do not matter.
    @Test func gradNormFavoursTheSlowerTask() {
        func run(alpha: Float) -> [Float] {
            var state = GradNormWeights(taskCount: 2, alpha: alpha)
            for step in 0..<1000 {
                let t = Float(step)
                let w = state.weights
                state.update(losses: [expf(-t / 200), expf(-t / 2000)], gradientNorms: [w[0], w[1]], learningRate: 0.002,
                             beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
            }
            return state.weights
        }
        let favoured = run(alpha: 1.5)
        #expect(favoured[1] > favoured[0] + 0.2, "weights \(favoured)")
        let neutral = run(alpha: 0)
        #expect(abs(neutral[0] - neutral[1]) < 0.05, "weights \(neutral)")
    }

    /// The two halves with per-task scales give the gradient of the loss weighted by those
    /// scales in one pass: heads, item table, encoder and embeddings alike.
    @Test(arguments: [ModelConfiguration.Architecture.mlp, .mmoe(experts: 2), .ple(sharedExperts: 2, taskExperts: 1, levels: 2)])
    func scaledHalvesEqualAWeightedPass(architecture: ModelConfiguration.Architecture) throws {
        try checkScaledHalves(architecture: architecture, attention: nil)
    }

    /// The same with the session attention added to the session query: the session query's
    /// gradient reaches the attention directly, scaled like the session head's.
    @Test func scaledHalvesEqualAWeightedPassWithAttentionInTheSessionQuery() throws {
        try checkScaledHalves(architecture: .mlp, attention: SessionEncoderShape(length: 4, blocks: 1, heads: 2, sessionQuery: .towerPlusAttention))
    }

    private func checkScaledHalves(architecture: ModelConfiguration.Architecture, attention: SessionEncoderShape?) throws {
        var configuration = F.configuration(epochs: 1)
        configuration.model.architecture = architecture
        configuration.model.sessionEncoder = attention
        configuration.validation = .none
        let data = try TrainingData(events: F.plantedStream(), configuration: configuration)
        let model = try ModelFileContents.initialized(configuration: configuration.model, catalog: data.catalog,
                                                      users: data.users, seed: 5)
        let network = Network(configuration: configuration.model)
        let plan = SoftmaxPlan(data: data, configuration: configuration)
        let examples = data.trainingExamples.prefix(40)
        let seeds = ArraySlice((0..<UInt64(examples.count)).map { $0 })
        let tasks = configuration.model.tasks
        let unit = tasks.map { _ in Float(1) / Float(examples.count) }
        let scales: [Float] = tasks.indices.map { Float($0 + 1) * 0.3 }

        let halves = GradientShard(layout: model.layout, taskCount: tasks.count)
        halves.computeHeads(examples, sampleSeeds: seeds, data: data, network: network, parameters: model.parameters, plan: plan,
                            taskCoefficients: unit, separateItemGradients: true, measureGram: true)
        #expect(tasks.indices.allSatisfy { halves.gram[$0 * tasks.count + $0] > 0 })
        halves.finish(network: network, parameters: model.parameters, taskScales: scales)
        let whole = GradientShard(layout: model.layout, taskCount: tasks.count)
        whole.compute(examples, sampleSeeds: seeds, data: data, network: network, parameters: model.parameters, plan: plan,
                      taskCoefficients: zip(unit, scales).map { $0 * $1 })
        for (name, tensor) in whole.gradients.tensors {
            let other = halves.gradients[name].scalars
            // Floored: some gradients are zero in exact arithmetic (an attention key's bias shifts
            // every logit of a row alike) and only rounding noise in float.
            let scale = max(1e-4, tensor.scalars.map(abs).max() ?? 0)
            let difference = zip(tensor.scalars, other).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= 1e-4 * scale, "\(name): differs by \(difference) (largest \(scale))")
        }
    }

    @Test(arguments: [TaskWeighting.mgda, .gradNorm(alpha: 1.5)])
    func learnedWeightingsTrainAndReportTheirWeights(weighting: TaskWeighting) throws {
        var configuration = F.configuration(epochs: 4)
        configuration.taskWeighting = weighting
        let result = try Trainer(configuration: configuration).train(events: F.plantedStream(), modelVersion: 1)
        let first = try #require(result.summary.epochs.first), last = try #require(result.summary.epochs.last)
        for task: Task in [.session, .nextDomain] {
            #expect(try #require(last.trainingLosses[task]) < (try #require(first.trainingLosses[task])))
        }
        let weights = first.taskWeights
        #expect(weights.count == configuration.model.tasks.count)
        #expect(abs(weights.values.reduce(0, +) - Float(weights.count)) < 0.05)
        #expect(weights.values.contains { abs($0 - 1) > 1e-3 }, "weights \(weights) never moved")
        #expect(result.summary.description.contains("task weights: domain.video"))
    }
}
