import Testing
@testable import MedleyModel
@testable import MedleySystem

/// Finite-difference checks of every backward pass.
@Suite struct GradientTests {
    /// A parameter set holding one linear layer "l.layers.0".
    private func linearParameters(out: Int, width: Int, seed: UInt64) -> ModelParameters {
        var rng = SplitMix64(seed: seed)
        return ModelParameters(tensors: [
            "l.layers.0.weight": Tensor(shape: [out, width], scalars: (0..<(out * width)).map { _ in rng.nextFloat(in: -1...1) }),
            "l.layers.0.bias": Tensor(shape: [out], scalars: (0..<out).map { _ in rng.nextFloat(in: -1...1) }),
        ])
    }

    /// Weighted sum of outputs, so that every output has a distinct upstream gradient.
    private func projection(_ y: [Float]) -> Float { y.enumerated().reduce(0) { $0 + Float($1.offset + 1) * 0.3 * $1.element } }
    private func projectionGradient(_ count: Int) -> [Float] { (0..<count).map { Float($0 + 1) * 0.3 } }

    @Test func linearLayer() {
        let p = linearParameters(out: 3, width: 4, seed: 1)
        let x: [Float] = [0.5, -1, 2, 0.25]
        var g = ModelParameters(zerosLike: p)
        var dw = g["l.layers.0.weight"], db = g["l.layers.0.bias"]
        let dx = Linear.backward(weight: p["l.layers.0.weight"], input: x, outputGradient: projectionGradient(3),
                                 weightGradient: &dw, biasGradient: &db)
        g["l.layers.0.weight"] = dw
        g["l.layers.0.bias"] = db
        let f = { (q: ModelParameters) in self.projection(Linear.forward(weight: q["l.layers.0.weight"], bias: q["l.layers.0.bias"], input: x)) }
        #expect(gradientMismatches(parameters: p, gradients: g, loss: f).isEmpty)
        // Input gradient.
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += 1e-3
            minus[i] -= 1e-3
            let numeric = (projection(Linear.forward(weight: p["l.layers.0.weight"], bias: p["l.layers.0.bias"], input: plus))
                - projection(Linear.forward(weight: p["l.layers.0.weight"], bias: p["l.layers.0.bias"], input: minus))) / 2e-3
            #expect(isClose(dx[i], numeric, absolute: 1e-3, relative: 1e-2))
        }
    }

    @Test func reluAndSoftmax() {
        let x: [Float] = [0.7, -0.4, 1.3, -2, 0.1]
        let dy = projectionGradient(x.count)
        let dReLU = ReLU.backward(preActivation: x, outputGradient: dy)
        let p = Softmax.forward(x)
        let dSoftmax = Softmax.backward(probabilities: p, outputGradient: dy)
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += 1e-3
            minus[i] -= 1e-3
            let numericReLU = (projection(ReLU.forward(plus)) - projection(ReLU.forward(minus))) / 2e-3
            let numericSoftmax = (projection(Softmax.forward(plus)) - projection(Softmax.forward(minus))) / 2e-3
            #expect(isClose(dReLU[i], numericReLU, absolute: 1e-3, relative: 1e-2))
            #expect(isClose(dSoftmax[i], numericSoftmax, absolute: 1e-3, relative: 1e-2))
        }
        #expect(isClose(p.reduce(0, +), 1))
    }

    @Test(arguments: [true, false])
    func multiLayerPerceptron(activateOutput: Bool) {
        var rng = SplitMix64(seed: 4)
        var tensors: [String: Tensor] = [:]
        for (l, (out, width)) in [(5, 3), (4, 5), (2, 4)].enumerated() {
            tensors["m.layers.\(l).weight"] = Tensor(shape: [out, width], scalars: (0..<(out * width)).map { _ in rng.nextFloat(in: -1...1) })
            tensors["m.layers.\(l).bias"] = Tensor(shape: [out], scalars: (0..<out).map { _ in rng.nextFloat(in: 0...0.5) })
        }
        let p = ModelParameters(tensors: tensors)
        let mlp = MLP(prefix: "m", layerCount: 3, activateOutput: activateOutput)
        let x: [Float] = [0.3, -0.8, 1.1]
        var g = ModelParameters(zerosLike: p)
        _ = mlp.backward(mlp.forward(x, parameters: p), outputGradient: projectionGradient(2), parameters: p, into: &g)
        let mismatches = gradientMismatches(parameters: p, gradients: g) { q in self.projection(mlp.forward(x, parameters: q).output) }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test func fullAndSampledSoftmaxAndNextDomainLosses() throws {
        let contents = try Fixtures.randomContents()
        let p = contents.parameters
        let query: [Float] = [0.4, -0.2, 0.9, 0.1]
        let rows = contents.catalog.domainRanges[2]
        // Full softmax over the music block, with a loss weight.
        var g = ModelParameters(zerosLike: p)
        let full = Losses.softmaxCrossEntropy(query: query, target: 6, rows: rows, parameters: p, weight: 0.7, gradients: &g)
        var mismatches = gradientMismatches(parameters: p, gradients: g) { q in
            var scratch = ModelParameters(zerosLike: q)
            return 0.7 * Losses.softmaxCrossEntropy(query: query, target: 6, rows: rows, parameters: q, gradients: &scratch).loss
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        // Query gradient of the full softmax, by finite differences.
        for k in query.indices {
            var plus = query, minus = query
            plus[k] += 1e-3
            minus[k] -= 1e-3
            var scratch = ModelParameters(zerosLike: p)
            let numeric = 0.7 * (Losses.softmaxCrossEntropy(query: plus, target: 6, rows: rows, parameters: p, gradients: &scratch).loss
                - Losses.softmaxCrossEntropy(query: minus, target: 6, rows: rows, parameters: p, gradients: &scratch).loss) / 2e-3
            #expect(isClose(full.inputGradient[k], numeric, absolute: 1e-3, relative: 1e-2))
        }
        // Sampled softmax with log-Q; the accidental hit (row 6) must be dropped.
        let negatives = [0, 3, 6, 8, 8]
        let logQ: [Float] = [-2, -1.5, -1, -0.5, -0.5]
        g = ModelParameters(zerosLike: p)
        let sampled = Losses.sampledSoftmaxCrossEntropy(query: query, target: 6, targetLogProbability: -1.2, negatives: negatives,
                                                        negativeLogProbabilities: logQ, parameters: p, gradients: &g)
        mismatches = gradientMismatches(parameters: p, gradients: g) { q in
            var scratch = ModelParameters(zerosLike: q)
            return Losses.sampledSoftmaxCrossEntropy(query: query, target: 6, targetLogProbability: -1.2, negatives: negatives,
                                                     negativeLogProbabilities: logQ, parameters: q, gradients: &scratch).loss
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        // The sampled loss by hand: candidates target 6, 0, 3, 8, 8 with logits s − log Q.
        let e = p[ParameterLayout.itemEmbedding], b = p[ParameterLayout.itemBias]
        func score(_ row: Int) -> Float { zip(query, e.row(row)).reduce(b.scalars[row]) { $0 + $1.0 * $1.1 } }
        let logits = [score(6) + 1.2, score(0) + 2, score(3) + 1.5, score(8) + 0.5, score(8) + 0.5]
        #expect(isClose(sampled.loss, Softmax.logSumExp(logits) - logits[0]))
        // Next-domain cross-entropy.
        let z: [Float] = [0.3, -1, 0.8]
        let next = Losses.nextDomainCrossEntropy(logits: z, target: 1, weight: 2)
        for k in z.indices {
            var plus = z, minus = z
            plus[k] += 1e-3
            minus[k] -= 1e-3
            let numeric = 2 * (Losses.nextDomainCrossEntropy(logits: plus, target: 1).loss - Losses.nextDomainCrossEntropy(logits: minus, target: 1).loss) / 2e-3
            #expect(isClose(next.inputGradient[k], numeric, absolute: 1e-3, relative: 1e-2))
        }
    }

    /// The whole network: every head's loss, through towers, encoder (MLP or MMoE gates and
    /// experts) and the session encoder into user and item embeddings.
    @Test(arguments: [ModelConfiguration.Architecture.mlp, .mmoe(experts: 3), .ple(sharedExperts: 2, taskExperts: 1, levels: 2)], [true, false])
    func wholeNetwork(architecture: ModelConfiguration.Architecture, knownUser: Bool) throws {
        try checkWholeNetwork(try Fixtures.randomContents(architecture: architecture), knownUser: knownUser)
    }

    /// The same with the session attention's output in the encoder input: its gradient reaches
    /// the attention blocks, the position table and the session's item rows.
    @Test(arguments: [true, false])
    func wholeNetworkWithSessionAttention(knownUser: Bool) throws {
        let contents = try Fixtures.randomContents(sessionEncoder: SessionEncoderShape(length: 3, blocks: 2, heads: 2, input: .session))
        try checkWholeNetwork(contents, knownUser: knownUser)
    }

    /// With the attention output also added to the session query: the session loss's gradient
    /// reaches the attention directly as well as through the encoder.
    @Test(arguments: [true, false])
    func wholeNetworkWithAttentionInTheSessionQuery(knownUser: Bool) throws {
        let shape = SessionEncoderShape(length: 3, blocks: 2, heads: 2, input: .history, sessionQuery: .towerPlusAttention)
        // Seeded so that no ReLU of the towers sits within the finite difference's step of its kink.
        try checkWholeNetwork(try Fixtures.randomContents(sessionEncoder: shape, seed: 8), knownUser: knownUser)
    }

    /// The same with the GRU's output in the encoder input, and also in the session query: the
    /// gradient reaches the GRU's tensors and the session's item rows through time.
    @Test(arguments: [true, false], [SessionQueryForm.tower, .towerPlusAttention])
    func wholeNetworkWithSessionGRU(knownUser: Bool, sessionQuery: SessionQueryForm) throws {
        let shape = SessionEncoderShape(kind: .gru, length: 3, input: .history, sessionQuery: sessionQuery)
        try checkWholeNetwork(try Fixtures.randomContents(sessionEncoder: shape, seed: 8), knownUser: knownUser)
    }

    private func checkWholeNetwork(_ contents: ModelFileContents, knownUser: Bool) throws {
        let encoder = InputEncoder(configuration: contents.configuration, catalog: contents.catalog, users: contents.users)
        let input = try encoder.encode(knownUser ? Fixtures.sessionInput : Fixtures.anonymousInput)
        let network = Network(configuration: contents.configuration)
        let ranges = contents.catalog.domainRanges
        let targets = [1, 4, 7]

        func totalLoss(_ p: ModelParameters, gradients: inout ModelParameters) -> (Float, Network.OutputGradients) {
            let pass = network.forward(input, parameters: p)
            var outputs = Network.OutputGradients(domainCount: 3)
            var total: Float = 0
            for t in 0..<3 {
                let r = Losses.softmaxCrossEntropy(query: pass.domainQuery(t), target: targets[t], rows: ranges[t],
                                                   parameters: p, weight: Float(t + 1) * 0.5, gradients: &gradients)
                total += Float(t + 1) * 0.5 * r.loss
                outputs.domainQueries[t] = r.inputGradient
            }
            let s = Losses.sampledSoftmaxCrossEntropy(query: pass.sessionQuery, target: 5, targetLogProbability: -2,
                                                      negatives: [0, 2, 8], negativeLogProbabilities: [-1, -2, -3],
                                                      parameters: p, gradients: &gradients)
            total += s.loss
            outputs.sessionQuery = s.inputGradient
            let n = Losses.nextDomainCrossEntropy(logits: pass.nextDomainLogits, target: 2, weight: 0.8)
            total += 0.8 * n.loss
            outputs.nextDomainLogits = n.inputGradient
            return (total, outputs)
        }

        let p = contents.parameters
        var g = ModelParameters(zerosLike: p)
        let (_, outputs) = totalLoss(p, gradients: &g)
        network.backward(network.forward(input, parameters: p), outputGradients: outputs, parameters: p, into: &g)
        // 40 samples: every coordinate of the user and item tables (the session encoder's inputs).
        let mismatches = gradientMismatches(parameters: p, gradients: g, samplesPerTensor: 40) { q in
            var scratch = ModelParameters(zerosLike: q)
            return totalLoss(q, gradients: &scratch).0
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        // The gradient reaches the user table only for a known user.
        let userGradient = g[ParameterLayout.userEmbedding].scalars
        #expect(userGradient.contains { $0 != 0 } == knownUser)
    }
}
