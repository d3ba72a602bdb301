/// The multitask network's computation, separate from its values: the forward pass with the
/// activations the backward pass needs, and the backward pass producing named gradients.
///
/// Per example: x = [user; session; last-item slots; context; session encoder's output,
/// when the model has one (``SessionEncoder``)] → shared encoder (MLP, MMoE with one gate
/// per task, or PLE with shared and per-task experts) → one tower per task → a query vector
/// per domain, a session query,
/// and next-domain logits. Scoring queries against items is done by ``ItemScorer`` (serving)
/// or ``Losses`` (training).
public struct Network: Sendable {
    public let configuration: ModelConfiguration
    // Internal, not private: the batched serving pass (BatchedForward.swift) reads them too.
    let encoder: MLP?
    let experts: [MLP]
    let gateNames: [(weight: String, bias: String)]
    let heads: [MLP]
    /// The order-aware session encoder, when the configuration has one.
    public let sessionEncoder: SessionEncoder?
    let ple: ProgressiveLayeredExtraction?

    public init(configuration c: ModelConfiguration) {
        configuration = c
        sessionEncoder = c.sessionEncoder.map { SessionEncoder(shape: $0, dimension: c.embeddingDimension) }
        let tasks = c.tasks
        switch c.architecture {
        case .mlp:
            encoder = MLP(prefix: ParameterLayout.encoderPrefix, layerCount: c.hiddenDimensions.count, activateOutput: true)
            experts = []
            gateNames = []
            ple = nil
        case .mmoe(let count):
            encoder = nil
            experts = (0..<count).map {
                MLP(prefix: ParameterLayout.expertPrefix($0), layerCount: c.hiddenDimensions.count, activateOutput: true)
            }
            gateNames = tasks.map {
                let prefix = ParameterLayout.gatePrefix($0, domains: c.domains)
                return ("\(prefix).weight", "\(prefix).bias")
            }
            ple = nil
        case .ple(let shared, let own, let levels):
            encoder = nil
            experts = []
            gateNames = []
            ple = ProgressiveLayeredExtraction(configuration: c, sharedExperts: shared, taskExperts: own, levels: levels)
        }
        heads = tasks.map {
            MLP(prefix: ParameterLayout.headPrefix($0, domains: c.domains),
                layerCount: c.towerHiddenDimensions.count + 1, activateOutput: false)
        }
    }

    /// The index of a task in ``ModelConfiguration/tasks``.
    private func taskIndex(_ task: Task) -> Int {
        switch task {
        case .domain(let d): return d
        case .session: return configuration.domains.count
        case .nextDomain: return configuration.domains.count + 1
        }
    }

    /// The activations of one example's forward pass, and its outputs.
    public struct ForwardPass: Sendable {
        public var input: EncodedInput
        /// The encoder input vector.
        public var x: [Float]
        var encoderCache: MLP.Cache?
        var expertCaches: [MLP.Cache] = []
        var pleCache: ProgressiveLayeredExtraction.Cache?
        /// Per task, its gate's mixing probabilities over experts (MMoE; for PLE the top level's task gates).
        public var gateProbabilities: [[Float]] = []
        /// Per task, the representation its head reads.
        public var representations: [[Float]] = []
        var headCaches: [MLP.Cache] = []
        /// The session encoder's pass, when this forward pass ran it (not when its output was given).
        public var attentionCache: SessionEncoder.Cache?
        /// The session encoder's output added to the session tower's output (`session_query` =
        /// `tower_plus_attention`); nil otherwise or for an empty sequence.
        var sessionQueryAttention: [Float]?

        /// The query vector of domain `d`'s head.
        public func domainQuery(_ d: Int) -> [Float] { headCaches[d].output }
        /// The session head's query vector.
        public var sessionQuery: [Float] {
            let tower = headCaches[headCaches.count - 2].output
            guard let a = sessionQueryAttention else { return tower }
            return zip(tower, a).map(+)
        }
        /// The next-domain classifier's logits, one per domain.
        public var nextDomainLogits: [Float] { headCaches[headCaches.count - 1].output }
        /// The next-domain probabilities (softmax of the logits).
        public var nextDomainProbabilities: [Float] { Softmax.forward(nextDomainLogits) }
    }

    /// Gradients of the loss with respect to the network's outputs; nil where a task has no loss.
    public struct OutputGradients: Sendable {
        public var domainQueries: [[Float]?]
        public var sessionQuery: [Float]?
        public var nextDomainLogits: [Float]?

        public init(domainCount: Int) {
            domainQueries = Array(repeating: nil, count: domainCount)
        }
    }

    /// Where the session encoder's output starts in x.
    var attentionOffset: Int {
        configuration.embeddingDimension * (2 + configuration.lastItemSlots) + configuration.contextDimension
    }

    /// The encoder input x = [user; session; slot 1 … slot L; context; session encoder output]
    /// (models/README.md); that output is zeros when not given.
    public func inputVector(_ input: EncodedInput, parameters: ModelParameters, attentionOutput: [Float]? = nil) -> [Float] {
        let d = configuration.embeddingDimension
        let items = parameters[ParameterLayout.itemEmbedding].scalars
        var x = [Float](repeating: 0, count: configuration.encoderInputDimension)
        func addRow(_ table: [Float], _ row: Int, scaledBy w: Float, at offset: Int) {
            for k in 0..<d { x[offset + k] += w * table[row * d + k] }
        }
        if let user = input.userRow {
            addRow(parameters[ParameterLayout.userEmbedding].scalars, user, scaledBy: 1, at: 0)
        } else if !input.foldInRows.isEmpty {
            let w = 1 / Float(input.foldInRows.count)
            for row in input.foldInRows { addRow(items, row, scaledBy: w, at: 0) }
        }
        for (row, w) in zip(input.sessionRows, input.sessionWeights) { addRow(items, row, scaledBy: w, at: d) }
        for (slot, row) in input.lastItemRows.enumerated() {
            if let row { addRow(items, row, scaledBy: 1, at: d * (2 + slot)) }
        }
        let contextStart = d * (2 + configuration.lastItemSlots)
        for (k, v) in input.context.enumerated() { x[contextStart + k] = v }
        if sessionEncoder != nil, let attentionOutput {
            for k in 0..<d { x[attentionOffset + k] = attentionOutput[k] }
        }
        return x
    }

    /// The forward pass, running the session encoder over the input's sequence rows.
    public func forward(_ input: EncodedInput, parameters: ModelParameters) -> ForwardPass {
        let cache = sessionEncoder?.forward(input.sequenceRows, parameters: parameters)
        var pass = forward(input, parameters: parameters, attentionOutput: cache?.lastOutput)
        pass.attentionCache = cache
        return pass
    }

    /// The forward pass with the session encoder's output for this input given (computed
    /// for a whole sequence at once in training); nil reads as zeros (an empty session).
    public func forward(_ input: EncodedInput, parameters: ModelParameters, attentionOutput: [Float]?) -> ForwardPass {
        let x = inputVector(input, parameters: parameters, attentionOutput: attentionOutput)
        var pass = ForwardPass(input: input, x: x)
        let taskCount = configuration.tasks.count
        if let encoder {
            let cache = encoder.forward(x, parameters: parameters)
            pass.encoderCache = cache
            pass.representations = Array(repeating: cache.output, count: taskCount)
        } else if let ple {
            let cache = ple.forward(x, taskCount: taskCount, parameters: parameters)
            pass.pleCache = cache
            pass.representations = cache.outputs
            pass.gateProbabilities = cache.levels[cache.levels.count - 1].taskGates
        } else {
            pass.expertCaches = experts.map { $0.forward(x, parameters: parameters) }
            let outputs = pass.expertCaches.map(\.output)
            for (weight, bias) in gateNames {
                let p = Softmax.forward(Linear.forward(weight: parameters[weight], bias: parameters[bias], input: x))
                pass.gateProbabilities.append(p)
                pass.representations.append(ExpertMixture.mix(probabilities: p, outputs: outputs))
            }
        }
        pass.headCaches = zip(heads, pass.representations).map { $0.forward($1, parameters: parameters) }
        if sessionEncoder?.shape.sessionQuery == .towerPlusAttention { pass.sessionQueryAttention = attentionOutput }
        return pass
    }

    /// Accumulates into `gradients` (shaped like the parameters) the gradient of the loss whose
    /// output gradients are given, through heads, encoder and the input's embeddings, and
    /// through the session encoder when this pass ran it. Returns the gradient with respect
    /// to the attention output (nil without an encoder), for a caller that gave that output.
    @discardableResult
    public func backward(_ pass: ForwardPass, outputGradients g: OutputGradients, parameters: ModelParameters,
                         into gradients: inout ModelParameters) -> [Float]? {
        let dRepresentation = backwardHeads(pass, outputGradients: g, parameters: parameters, into: &gradients)
        return backwardEncoder(pass, representationGradients: dRepresentation, sessionQueryGradient: g.sessionQuery,
                               parameters: parameters, into: &gradients)
    }

    /// The first half of ``backward(_:outputGradients:parameters:into:)``: accumulates the heads'
    /// parameter gradients and returns, per task index, the gradient with respect to the
    /// representation the task's head reads (nil where the task has no loss). Task weightings
    /// that look at each task's gradient separately (MGDA, GradNorm) act between the halves.
    public func backwardHeads(_ pass: ForwardPass, outputGradients g: OutputGradients, parameters: ModelParameters,
                              into gradients: inout ModelParameters) -> [[Float]?] {
        let tasks = configuration.tasks
        var dRepresentation: [[Float]?] = Array(repeating: nil, count: tasks.count)
        for task in tasks {
            let dOut: [Float]?
            switch task {
            case .domain(let d): dOut = g.domainQueries[d]
            case .session: dOut = g.sessionQuery
            case .nextDomain: dOut = g.nextDomainLogits
            }
            guard let dOut else { continue }
            let t = taskIndex(task)
            dRepresentation[t] = heads[t].backward(pass.headCaches[t], outputGradient: dOut, parameters: parameters, into: &gradients)
        }
        return dRepresentation
    }

    /// The second half of ``backward(_:outputGradients:parameters:into:)``: from the per-task
    /// representation gradients, through the shared encoder into the input's embeddings and the
    /// session encoder (when this pass ran it). `sessionQueryGradient`, the (task-weighted)
    /// gradient of the session query, reaches the attention output directly when the model adds
    /// that output to the query. Returns the gradient with respect to the attention output (nil
    /// without an encoder).
    @discardableResult
    public func backwardEncoder(_ pass: ForwardPass, representationGradients dRepresentation: [[Float]?],
                                sessionQueryGradient: [Float]? = nil,
                                parameters: ModelParameters, into gradients: inout ModelParameters) -> [Float]? {
        let width = configuration.representationDimension
        var dx = [Float](repeating: 0, count: configuration.encoderInputDimension)
        if let encoder, let cache = pass.encoderCache {
            var dh = [Float](repeating: 0, count: width)
            for case let dr? in dRepresentation { for k in 0..<width { dh[k] += dr[k] } }
            dx = encoder.backward(cache, outputGradient: dh, parameters: parameters, into: &gradients)
        } else if let ple, let cache = pass.pleCache {
            dx = ple.backward(cache, representationGradients: dRepresentation, parameters: parameters, into: &gradients)
        } else {
            var dExpert = [[Float]](repeating: [Float](repeating: 0, count: width), count: experts.count)
            for (t, dr) in dRepresentation.enumerated() {
                guard let dr else { continue }
                let p = pass.gateProbabilities[t]
                var dp = [Float](repeating: 0, count: experts.count)
                for e in experts.indices {
                    let h = pass.expertCaches[e].output
                    for k in 0..<width {
                        dp[e] += dr[k] * h[k]
                        dExpert[e][k] += p[e] * dr[k]
                    }
                }
                let dz = Softmax.backward(probabilities: p, outputGradient: dp)
                let (weight, bias) = gateNames[t]
                let dxGate = gradients.withTensors(weight, bias) { dw, db in
                    Linear.backward(weight: parameters[weight], input: pass.x, outputGradient: dz, weightGradient: &dw, biasGradient: &db)
                }
                for k in dx.indices { dx[k] += dxGate[k] }
            }
            for (e, expert) in experts.enumerated() {
                let dxExpert = expert.backward(pass.expertCaches[e], outputGradient: dExpert[e], parameters: parameters, into: &gradients)
                for k in dx.indices { dx[k] += dxExpert[k] }
            }
        }
        backwardInput(pass.input, dx: dx[...], into: &gradients)
        guard let sessionEncoder else { return nil }
        let d = configuration.embeddingDimension
        var dAttention = Array(dx[attentionOffset..<(attentionOffset + d)])
        if pass.sessionQueryAttention != nil, let direct = sessionQueryGradient {
            for k in 0..<d { dAttention[k] += direct[k] }
        }
        if let cache = pass.attentionCache, !cache.rows.isEmpty {
            var dOutput = [Float](repeating: 0, count: cache.rows.count * d)
            for k in 0..<d { dOutput[dOutput.count - d + k] = dAttention[k] }
            sessionEncoder.backward(cache, outputGradient: dOutput, parameters: parameters, into: &gradients)
        }
        return dAttention
    }

    /// Task `t`'s gradient with respect to the last representation every task shares, given the
    /// gradient `dr` with respect to the representation its head reads: `dr` itself for the MLP
    /// encoder (one representation for all), the experts' outputs for MMoE (expert e receives
    /// g_t[e] · dr), the top level's shared experts' outputs for PLE. MGDA-UB and GradNorm
    /// compare tasks by these vectors.
    public func sharedRepresentationGradient(_ pass: ForwardPass, task t: Int, representationGradient dr: [Float]) -> [Float] {
        if encoder != nil { return dr }
        if let ple, let cache = pass.pleCache { return ple.sharedExpertsGradient(cache, task: t, representationGradient: dr) }
        let p = pass.gateProbabilities[t]
        var result = [Float]()
        result.reserveCapacity(p.count * dr.count)
        for e in p.indices { for k in dr.indices { result.append(p[e] * dr[k]) } }
        return result
    }

    /// The names of the tensors of task `t`'s head (its tower), which no other task reads.
    public func headParameterNames(_ t: Int) -> [String] { heads[t].weightNames + heads[t].biasNames }

    /// Spreads the input gradient over the user and item rows the input vector was built from.
    func backwardInput(_ input: EncodedInput, dx: ArraySlice<Float>, into gradients: inout ModelParameters) {
        let d = configuration.embeddingDimension
        // Each table is looked up once per example: the rows below are a session's worth.
        dx.withUnsafeBufferPointer { dx in
            func addRow(_ row: Int, scaledBy w: Float, from offset: Int, into g: UnsafeMutableBufferPointer<Float>) {
                for k in 0..<d { g[row * d + k] += w * dx[offset + k] }
            }
            if let user = input.userRow {
                gradients.tensors[ParameterLayout.userEmbedding]!.scalars.withUnsafeMutableBufferPointer { g in
                    addRow(user, scaledBy: 1, from: 0, into: g)
                }
            }
            let foldsIn = input.userRow == nil && !input.foldInRows.isEmpty
            guard foldsIn || !input.sessionRows.isEmpty || input.lastItemRows.contains(where: { $0 != nil }) else { return }
            gradients.tensors[ParameterLayout.itemEmbedding]!.scalars.withUnsafeMutableBufferPointer { g in
                if foldsIn {
                    let w = 1 / Float(input.foldInRows.count)
                    for row in input.foldInRows { addRow(row, scaledBy: w, from: 0, into: g) }
                }
                for (row, w) in zip(input.sessionRows, input.sessionWeights) {
                    addRow(row, scaledBy: w, from: d, into: g)
                }
                for (slot, row) in input.lastItemRows.enumerated() {
                    if let row { addRow(row, scaledBy: 1, from: d * (2 + slot), into: g) }
                }
            }
        }
    }
}
