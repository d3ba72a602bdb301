/// The training forward pass of a batch of examples through the MLP encoder and the heads, one
/// matrix product (sgemm) per layer over the batch's rows, with the activations the backward
/// pass needs; the backward pass (``Network/backwardHeads(_:outputGradients:parameters:into:)``,
/// ``Network/backwardEncoder(_:representationGradients:sessionQueryGradients:parameters:into:)``)
/// is likewise one product per layer for the weights' gradients and one for the inputs'. The
/// per-example pass (``Network/forward(_:parameters:attentionOutput:)``) does a matrix-vector
/// product per layer and example and a rank-one update per layer and example going back,
/// which bounds training by memory traffic over the weights' gradients. Outputs and gradients
/// are the per-example passes' (summed over the batch) up to float rounding.
///
/// Only models with the MLP encoder (``Network/trainsInBatches``); MMoE and PLE train per
/// example. The session encoder's outputs are given (computed per sequence by the trainer).
public struct BatchedTrainingPass: Sendable {
    /// The examples of the batch.
    public let count: Int
    let inputs: [EncodedInput]
    let encoderCache: MLP.RowCache
    /// Per task index, its head's pass over the shared representation.
    let headCaches: [MLP.RowCache]
    /// The session encoder's outputs, kept when the model adds them to the session query.
    let sessionQueryAttention: [[Float]?]?
    /// The session head's queries, `count` × d (``Network/sessionQueries(headRows:attentionOutputs:)``).
    public let sessionQueries: [Float]

    /// Domain `t`'s head's queries, `count` × d.
    public func domainQueries(_ t: Int) -> [Float] { headCaches[t].output }

    /// The next-domain logits, `count` × domains.
    public var nextDomainLogits: [Float] { headCaches[headCaches.count - 1].output }
}

extension MLP {
    /// The batched pass's activations: per layer its input rows and pre-activation rows.
    struct RowCache: Sendable {
        var count: Int
        var inputs: [[Float]] = []
        var preActivations: [[Float]] = []
        var output: [Float] = []
    }

    /// ``forward(rows:count:parameters:)`` keeping what ``backward(rows:outputGradient:parameters:into:)`` needs.
    func forwardKeeping(rows x: [Float], count n: Int, parameters: ModelParameters) -> RowCache {
        var cache = RowCache(count: n)
        var h = x
        for l in weightNames.indices {
            cache.inputs.append(h)
            let z = RowwiseLinear.forward(weight: parameters[weightNames[l]], bias: parameters[biasNames[l]], input: h, rows: n)
            cache.preActivations.append(z)
            h = z
            if l < weightNames.count - 1 || activateOutput {
                for i in h.indices where h[i] < 0 { h[i] = 0 }
            }
        }
        cache.output = h
        return cache
    }

    /// Accumulates the parameter gradients of the rows' output gradients (`count` × output
    /// width); returns the gradient with respect to the input rows.
    func backward(rows cache: RowCache, outputGradient: [Float], parameters: ModelParameters,
                  into gradients: inout ModelParameters) -> [Float] {
        var dy = outputGradient
        for l in weightNames.indices.reversed() {
            if l < weightNames.count - 1 || activateOutput {
                let z = cache.preActivations[l]
                for i in dy.indices where z[i] <= 0 { dy[i] = 0 }
            }
            dy = gradients.withTensors(weightNames[l], biasNames[l]) { [dy] dw, db in
                RowwiseLinear.backward(weight: parameters[weightNames[l]], input: cache.inputs[l], rows: cache.count,
                                       outputGradient: dy, weightGradient: &dw, biasGradient: &db)
            }
        }
        return dy
    }
}

extension Network {
    /// Whether the model trains through ``BatchedTrainingPass``: the MLP encoder.
    public var trainsInBatches: Bool { encoder != nil }

    /// The training forward pass of a batch; `attentionOutputs[b]` is input b's session
    /// encoder output (nil: none, read as zeros). - Precondition: ``trainsInBatches``.
    public func forward(training inputs: [EncodedInput], attentionOutputs: [[Float]?],
                        parameters: ModelParameters) -> BatchedTrainingPass {
        guard let encoder else { preconditionFailure("the batched training pass needs the MLP encoder") }
        precondition(attentionOutputs.count == inputs.count, "\(inputs.count) inputs, \(attentionOutputs.count) attention outputs")
        let n = inputs.count
        var x: [Float] = []
        x.reserveCapacity(n * configuration.encoderInputDimension)
        for (input, attentionOutput) in zip(inputs, attentionOutputs) {
            x += inputVector(input, parameters: parameters, attentionOutput: attentionOutput)
        }
        let encoderCache = encoder.forwardKeeping(rows: x, count: n, parameters: parameters)
        let headCaches = heads.map { $0.forwardKeeping(rows: encoderCache.output, count: n, parameters: parameters) }
        let addsAttention = sessionEncoder?.shape.sessionQuery == .towerPlusAttention
        let sessionRows = headCaches[configuration.domains.count].output
        return BatchedTrainingPass(count: n, inputs: inputs, encoderCache: encoderCache, headCaches: headCaches,
                                   sessionQueryAttention: addsAttention ? attentionOutputs : nil,
                                   sessionQueries: sessionQueries(headRows: sessionRows, attentionOutputs: attentionOutputs))
    }

    /// The heads' half of the batched backward pass: `outputGradients[t]` is task t's output
    /// gradient rows (`count` × its output width; nil where the task has no loss in the batch,
    /// zero rows for the examples without it). Accumulates the heads' parameter gradients and
    /// returns, per task index, the gradient rows of the shared representation (nil where the
    /// task has none).
    public func backwardHeads(_ pass: BatchedTrainingPass, outputGradients: [[Float]?], parameters: ModelParameters,
                              into gradients: inout ModelParameters) -> [[Float]?] {
        precondition(outputGradients.count == heads.count, "\(outputGradients.count) output gradients, \(heads.count) heads")
        return heads.indices.map { t in
            outputGradients[t].map { heads[t].backward(rows: pass.headCaches[t], outputGradient: $0, parameters: parameters, into: &gradients) }
        }
    }

    /// The encoder's half of the batched backward pass: from the tasks' representation gradient
    /// rows through the MLP encoder into the inputs' embeddings. `sessionQueryGradients`, the
    /// session query's (task-weighted) gradient rows, reaches the attention outputs directly when
    /// the model adds them to the query. Returns per example the gradient of its session encoder
    /// output (nil without a session encoder).
    public func backwardEncoder(_ pass: BatchedTrainingPass, representationGradients: [[Float]?],
                                sessionQueryGradients: [Float]?, parameters: ModelParameters,
                                into gradients: inout ModelParameters) -> [[Float]]? {
        guard let encoder else { preconditionFailure("the batched training pass needs the MLP encoder") }
        let n = pass.count
        var dh = [Float](repeating: 0, count: n * configuration.representationDimension)
        for case let dr? in representationGradients {
            for k in dh.indices { dh[k] += dr[k] }
        }
        let dx = encoder.backward(rows: pass.encoderCache, outputGradient: dh, parameters: parameters, into: &gradients)
        let width = configuration.encoderInputDimension
        for (b, input) in pass.inputs.enumerated() {
            backwardInput(input, dx: dx[(b * width)..<((b + 1) * width)], into: &gradients)
        }
        guard sessionEncoder != nil else { return nil }
        let d = configuration.embeddingDimension
        return (0..<n).map { b in
            let start = b * width + attentionOffset
            var dAttention = Array(dx[start..<(start + d)])
            if pass.sessionQueryAttention?[b] != nil, let direct = sessionQueryGradients {
                for k in 0..<d { dAttention[k] += direct[b * d + k] }
            }
            return dAttention
        }
    }
}
