/// The serving forward pass over a batch of inputs at once: the encoder, the experts, the
/// gates and the heads each run one matrix product per layer over the batch's rows (sgemm),
/// where the per-example pass (``Network/forward(_:parameters:attentionOutput:)``) runs one
/// matrix-vector product per layer and example. It keeps no activations (serving has no
/// backward pass); its outputs are those of the per-example pass, up to float rounding.
public struct BatchedForward: Sendable {
    /// The inputs of the batch.
    public let count: Int
    /// The query width (the embedding dimension).
    public let dimension: Int
    /// Per domain, the domain head's queries: row b (of `count`, each `dimension` wide) is input b's.
    public let domainQueries: [[Float]]
    /// The session head's queries, `count` × `dimension`.
    public let sessionQueries: [Float]
    /// The next-domain logits, `count` × domains.
    public let nextDomainLogits: [Float]

    /// Input b's session query.
    public func sessionQuery(_ b: Int) -> [Float] {
        Array(sessionQueries[(b * dimension)..<((b + 1) * dimension)])
    }

    /// Input b's query of domain t's head.
    public func domainQuery(_ t: Int, _ b: Int) -> [Float] {
        Array(domainQueries[t][(b * dimension)..<((b + 1) * dimension)])
    }

    /// Input b's next-domain probabilities (the softmax of its logits).
    public func nextDomainProbabilities(_ b: Int) -> [Float] {
        let width = domainQueries.count
        return Softmax.forward(Array(nextDomainLogits[(b * width)..<((b + 1) * width)]))
    }
}

extension Network {
    /// The forward pass of a batch: `attentionOutputs[b]` is input b's session encoder output
    /// (nil: none, read as zeros), as the per-example pass takes it.
    public func forward(batch inputs: [EncodedInput], attentionOutputs: [[Float]?], parameters: ModelParameters) -> BatchedForward {
        precondition(attentionOutputs.count == inputs.count, "\(inputs.count) inputs, \(attentionOutputs.count) attention outputs")
        let n = inputs.count
        let d = configuration.embeddingDimension
        let domainCount = configuration.domains.count
        var x: [Float] = []
        x.reserveCapacity(n * configuration.encoderInputDimension)
        for (input, attentionOutput) in zip(inputs, attentionOutputs) {
            x += inputVector(input, parameters: parameters, attentionOutput: attentionOutput)
        }
        let taskCount = configuration.tasks.count
        let representations: [[Float]]
        if let encoder {
            representations = Array(repeating: encoder.forward(rows: x, count: n, parameters: parameters), count: taskCount)
        } else if let ple {
            representations = ple.forward(rows: x, count: n, taskCount: taskCount, parameters: parameters)
        } else {
            let outputs = experts.map { $0.forward(rows: x, count: n, parameters: parameters) }
            representations = gateNames.map { gate in
                let p = Softmax.forward(rows: BatchedLayer.forward(weight: parameters[gate.weight], bias: parameters[gate.bias],
                                                                     input: x, rows: n), count: n)
                return ExpertMixture.mix(probabilities: p, outputs: outputs, count: n)
            }
        }
        let outputs = zip(heads, representations).map { $0.forward(rows: $1, count: n, parameters: parameters) }
        return BatchedForward(count: n, dimension: d, domainQueries: Array(outputs[0..<domainCount]),
                              sessionQueries: sessionQueries(headRows: outputs[domainCount], attentionOutputs: attentionOutputs),
                              nextDomainLogits: outputs[domainCount + 1])
    }

    /// The session head's output rows as session queries: with each input's attention output
    /// added where the model adds it to the query (``SessionQueryForm/towerPlusAttention``; a nil
    /// output adds nothing), the rows themselves otherwise.
    func sessionQueries(headRows: [Float], attentionOutputs: [[Float]?]) -> [Float] {
        guard sessionEncoder?.shape.sessionQuery == .towerPlusAttention else { return headRows }
        let d = configuration.embeddingDimension
        var queries = headRows
        for (b, attentionOutput) in attentionOutputs.enumerated() {
            guard let attentionOutput else { continue }
            for k in 0..<d { queries[b * d + k] += attentionOutput[k] }
        }
        return queries
    }
}

extension MLP {
    /// The layers applied to `count` rows at once (`rows` is `count` × input width); returns the
    /// output rows.
    func forward(rows x: [Float], count n: Int, parameters: ModelParameters) -> [Float] {
        var h = x
        for l in weightNames.indices {
            h = BatchedLayer.forward(weight: parameters[weightNames[l]], bias: parameters[biasNames[l]], input: h, rows: n)
            if l < weightNames.count - 1 || activateOutput {
                for i in h.indices where h[i] < 0 { h[i] = 0 }
            }
        }
        return h
    }
}

extension ProgressiveLayeredExtraction {
    /// ``forward(_:taskCount:parameters:)`` over `count` rows at once, without the caches;
    /// returns per task the representation rows its head reads.
    func forward(rows x: [Float], count n: Int, taskCount: Int, parameters: ModelParameters) -> [[Float]] {
        var taskInputs = Array(repeating: x, count: taskCount)
        var sharedInput = x
        func gate(_ names: (weight: String, bias: String), _ input: [Float]) -> [Float] {
            Softmax.forward(rows: BatchedLayer.forward(weight: parameters[names.weight], bias: parameters[names.bias],
                                                        input: input, rows: n), count: n)
        }
        for level in levels {
            let shared = level.sharedExperts.map { $0.forward(rows: sharedInput, count: n, parameters: parameters) }
            let own = (0..<taskCount).map { t in level.taskExperts[t].map { $0.forward(rows: taskInputs[t], count: n, parameters: parameters) } }
            let next = (0..<taskCount).map { t in
                ExpertMixture.mix(probabilities: gate(level.taskGates[t], taskInputs[t]), outputs: own[t] + shared, count: n)
            }
            if let sharedGate = level.sharedGate {
                sharedInput = ExpertMixture.mix(probabilities: gate(sharedGate, sharedInput), outputs: own.flatMap { $0 } + shared, count: n)
            }
            taskInputs = next
        }
        return taskInputs
    }
}

extension Softmax {
    /// The softmax of each of the `count` rows of `logits`.
    static func forward(rows logits: [Float], count n: Int) -> [Float] {
        guard n > 0 else { return [] }
        let width = logits.count / n
        var p = logits
        for b in 0..<n {
            let row = Softmax.forward(Array(logits[(b * width)..<((b + 1) * width)]))
            for k in 0..<width { p[b * width + k] = row[k] }
        }
        return p
    }
}

/// One fully connected layer over `count` rows: one matrix product (sgemm), except for a lone
/// row, which goes through the per-example kernel (``Linear``), so that a lone request does
/// the per-example pass's arithmetic without sgemm's set-up (a difference in speed of a few
/// per cent at most, within the noise of every measurement here).
enum BatchedLayer {
    static func forward(weight: Tensor, bias: Tensor, input x: [Float], rows n: Int) -> [Float] {
        n == 1 ? Linear.forward(weight: weight, bias: bias, input: x) : RowwiseLinear.forward(weight: weight, bias: bias, input: x, rows: n)
    }
}
