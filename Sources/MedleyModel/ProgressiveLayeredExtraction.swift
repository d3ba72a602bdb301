/// The PLE encoder (Progressive Layered Extraction; Tang, Liu, Zhao & Gong 2020, RecSys):
/// experts shared by every task next to experts of each task's own, mixed per task by a gate.
///
/// Each extraction level l has, for every task t, `taskExperts` MLPs reading the task's input
/// u_t, and `sharedExperts` MLPs reading the shared input s. Task t's gate mixes its own and
/// the shared experts' outputs, u_t' = Σ_k softmax(G_t u_t + b_t)[k] · h_k; below the top level
/// a shared gate mixes every expert of the level from s, s' = Σ_k softmax(G_s s + b_s)[k] · h_k,
/// and feeds the next level's shared experts. At the first level every input is the encoder
/// input x; the top level's u_t are the representations the heads read. The task experts
/// keep a place where a task learns what conflicts with the others (the seesaw MMoE suffers).
///
/// Tensor names and shapes are in ``ParameterLayout`` and models/README.md.
struct ProgressiveLayeredExtraction: Sendable {
    /// One level's experts and gates; gate outputs list the task's experts, then the shared.
    struct Level: Sendable {
        var sharedExperts: [MLP]
        /// Per task index, its experts.
        var taskExperts: [[MLP]]
        /// Per task index, (weight, bias) of its gate.
        var taskGates: [(weight: String, bias: String)]
        /// The shared gate over every expert (task experts in task order, then the shared);
        /// nil at the top level.
        var sharedGate: (weight: String, bias: String)?
    }

    let levels: [Level]

    init(configuration c: ModelConfiguration, sharedExperts: Int, taskExperts: Int, levels levelCount: Int) {
        let tasks = c.tasks
        levels = (0..<levelCount).map { l in
            Level(
                sharedExperts: (0..<sharedExperts).map {
                    MLP(prefix: ParameterLayout.pleSharedExpertPrefix(level: l, expert: $0), layerCount: c.hiddenDimensions.count,
                        activateOutput: true)
                },
                taskExperts: tasks.map { task in
                    (0..<taskExperts).map {
                        MLP(prefix: ParameterLayout.pleTaskExpertPrefix(level: l, task: task, expert: $0, domains: c.domains),
                            layerCount: c.hiddenDimensions.count, activateOutput: true)
                    }
                },
                taskGates: tasks.map { task in
                    let prefix = ParameterLayout.pleTaskGatePrefix(level: l, task: task, domains: c.domains)
                    return ("\(prefix).weight", "\(prefix).bias")
                },
                sharedGate: l < levelCount - 1
                    ? ("\(ParameterLayout.pleSharedGatePrefix(level: l)).weight", "\(ParameterLayout.pleSharedGatePrefix(level: l)).bias")
                    : nil)
        }
    }

    /// What the backward pass needs from one level.
    struct LevelCache: Sendable {
        var taskInputs: [[Float]]
        var sharedInput: [Float]
        var sharedExperts: [MLP.Cache]
        var taskExperts: [[MLP.Cache]]
        var taskGates: [[Float]]
        var sharedGate: [Float]?
    }

    struct Cache: Sendable {
        var levels: [LevelCache] = []
        /// Per task index, the representation its head reads.
        var outputs: [[Float]] = []
    }

    func forward(_ x: [Float], taskCount: Int, parameters: ModelParameters) -> Cache {
        var cache = Cache()
        var taskInputs = Array(repeating: x, count: taskCount)
        var sharedInput = x
        for level in levels {
            let shared = level.sharedExperts.map { $0.forward(sharedInput, parameters: parameters) }
            let own = (0..<taskCount).map { t in level.taskExperts[t].map { $0.forward(taskInputs[t], parameters: parameters) } }
            var gates: [[Float]] = []
            var next: [[Float]] = []
            for t in 0..<taskCount {
                let (w, b) = level.taskGates[t]
                let p = Softmax.forward(Linear.forward(weight: parameters[w], bias: parameters[b], input: taskInputs[t]))
                gates.append(p)
                next.append(ExpertMixture.mix(probabilities: p, outputs: own[t].map(\.output) + shared.map(\.output)))
            }
            var sharedGate: [Float]?
            var nextShared = sharedInput
            if let (w, b) = level.sharedGate {
                let p = Softmax.forward(Linear.forward(weight: parameters[w], bias: parameters[b], input: sharedInput))
                sharedGate = p
                nextShared = ExpertMixture.mix(probabilities: p, outputs: own.flatMap { $0.map(\.output) } + shared.map(\.output))
            }
            cache.levels.append(LevelCache(taskInputs: taskInputs, sharedInput: sharedInput, sharedExperts: shared,
                                           taskExperts: own, taskGates: gates, sharedGate: sharedGate))
            taskInputs = next
            sharedInput = nextShared
        }
        cache.outputs = taskInputs
        return cache
    }

    /// Adds `dp = ⟨dr, h_k⟩`-style gradients of one gate's mixture: accumulates `p[k] · dr` into
    /// the experts' output gradients and the gate's parameter gradients; returns the gate
    /// input's gradient.
    private static func backwardGate(
        _ gate: (weight: String, bias: String), probabilities p: [Float], input: [Float], outputs: [[Float]],
        outputGradient dr: [Float], expertGradients: inout [[Float]], parameters: ModelParameters,
        into gradients: inout ModelParameters
    ) -> [Float] {
        var dp = [Float](repeating: 0, count: p.count)
        for (k, h) in outputs.enumerated() {
            for i in dr.indices {
                dp[k] += dr[i] * h[i]
                expertGradients[k][i] += p[k] * dr[i]
            }
        }
        let dz = Softmax.backward(probabilities: p, outputGradient: dp)
        return gradients.withTensors(gate.weight, gate.bias) { dw, db in
            Linear.backward(weight: parameters[gate.weight], input: input, outputGradient: dz, weightGradient: &dw, biasGradient: &db)
        }
    }

    /// Accumulates every expert's and gate's gradients from the per-task representation
    /// gradients (nil: the task has no loss); returns the gradient with respect to x.
    func backward(_ cache: Cache, representationGradients: [[Float]?], parameters: ModelParameters,
                  into gradients: inout ModelParameters) -> [Float] {
        let taskCount = representationGradients.count
        var dTask = representationGradients
        var dShared: [Float]?
        for (l, level) in levels.enumerated().reversed() {
            let c = cache.levels[l]
            let width = c.sharedExperts.first?.output.count ?? c.taskExperts[0][0].output.count
            let zeros = [Float](repeating: 0, count: width)
            var dOwn = c.taskExperts.map { $0.map { _ in zeros } }
            var dSharedExperts = c.sharedExperts.map { _ in zeros }
            var dTaskInput: [[Float]?] = Array(repeating: nil, count: taskCount)
            var dSharedInput: [Float]?
            func add(_ v: [Float], to target: inout [Float]?) {
                if target == nil { target = v } else { for i in v.indices { target![i] += v[i] } }
            }
            let sharedOutputs = c.sharedExperts.map(\.output)
            for t in 0..<taskCount {
                guard let dr = dTask[t] else { continue }
                var dExperts = dOwn[t] + dSharedExperts
                let dx = Self.backwardGate(level.taskGates[t], probabilities: c.taskGates[t], input: c.taskInputs[t],
                                           outputs: c.taskExperts[t].map(\.output) + sharedOutputs, outputGradient: dr,
                                           expertGradients: &dExperts, parameters: parameters, into: &gradients)
                dOwn[t] = Array(dExperts[..<dOwn[t].count])
                dSharedExperts = Array(dExperts[dOwn[t].count...])
                add(dx, to: &dTaskInput[t])
            }
            if let gate = level.sharedGate, let p = c.sharedGate, let ds = dShared {
                var dExperts = dOwn.flatMap { $0 } + dSharedExperts
                let dx = Self.backwardGate(gate, probabilities: p, input: c.sharedInput,
                                           outputs: c.taskExperts.flatMap { $0.map(\.output) } + sharedOutputs, outputGradient: ds,
                                           expertGradients: &dExperts, parameters: parameters, into: &gradients)
                var k = 0
                for t in 0..<taskCount {
                    for e in dOwn[t].indices {
                        dOwn[t][e] = dExperts[k]
                        k += 1
                    }
                }
                dSharedExperts = Array(dExperts[k...])
                add(dx, to: &dSharedInput)
            }
            for t in 0..<taskCount {
                for (e, expert) in level.taskExperts[t].enumerated() where dOwn[t][e].contains(where: { $0 != 0 }) {
                    add(expert.backward(c.taskExperts[t][e], outputGradient: dOwn[t][e], parameters: parameters, into: &gradients),
                        to: &dTaskInput[t])
                }
            }
            for (e, expert) in level.sharedExperts.enumerated() where dSharedExperts[e].contains(where: { $0 != 0 }) {
                add(expert.backward(c.sharedExperts[e], outputGradient: dSharedExperts[e], parameters: parameters, into: &gradients),
                    to: &dSharedInput)
            }
            dTask = dTaskInput
            dShared = dSharedInput
        }
        // At the first level every input is x.
        var dx = [Float](repeating: 0, count: cache.levels[0].sharedInput.count)
        for case let d? in dTask + [dShared] { for i in dx.indices { dx[i] += d[i] } }
        return dx
    }

    /// Task t's gradient with respect to the top level's shared experts' outputs (the last
    /// representation every task reads), from its representation gradient `dr`.
    func sharedExpertsGradient(_ cache: Cache, task t: Int, representationGradient dr: [Float]) -> [Float] {
        let top = cache.levels[cache.levels.count - 1]
        let own = top.taskExperts[t].count
        var result: [Float] = []
        for j in top.sharedExperts.indices { for i in dr.indices { result.append(top.taskGates[t][own + j] * dr[i]) } }
        return result
    }
}
