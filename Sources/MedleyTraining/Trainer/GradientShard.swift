import MedleyModel
import MedleySystem

/// The item heads' softmax settings for one training run: which heads use sampled softmax,
/// with which sampler, and how many negatives.
struct SoftmaxPlan: Sendable {
    /// Per domain, the sampler of its block when the block is larger than the threshold.
    let domainSamplers: [NegativeSampler?]
    /// The sampler over the whole catalogue when it is larger than the threshold.
    let sessionSampler: NegativeSampler?
    let negatives: Int

    init(data: TrainingData, configuration c: TrainingConfiguration) {
        func sampler(_ rows: Range<Int>) -> NegativeSampler? {
            rows.count > c.sampledSoftmaxThreshold
                ? NegativeSampler(rows: rows, counts: data.itemCounts, exponent: c.negativeSamplingExponent) : nil
        }
        domainSamplers = data.catalog.domainRanges.map(sampler)
        sessionSampler = sampler(0..<data.catalog.count)
        negatives = c.sampledNegatives
    }

    /// Whether any head samples.
    var samples: Bool { sessionSampler != nil || domainSamplers.contains { $0 != nil } }
}

/// One thread's share of a batch: its own gradient buffers and loss sums, so that threads
/// never write to shared memory. The trainer adds the shards up in shard order, which makes
/// the result independent of how the threads were scheduled.
///
/// A step is computed in two halves: ``computeHeads(_:sampleSeeds:data:network:parameters:plan:taskCoefficients:dropoutRate:separateItemGradients:measureGram:)``
/// (forward pass, the heads' losses and the heads' backward pass) and
/// ``finish(network:parameters:taskScales:)`` (the shared encoder's and the embeddings'
/// backward pass). Between them the trainer may look at every task's gradient with respect to
/// the shared representation (``gram``) and rescale the tasks (MGDA); ``compute(_:sampleSeeds:data:network:parameters:plan:taskCoefficients:dropoutRate:measureGram:)``
/// runs both halves at once.
///
/// `@unchecked Sendable`: a shard is handed to exactly one thread per half-step (shard `s` to
/// iteration `s` of `concurrentPerform`), and read by the trainer only after all return.
final class GradientShard: @unchecked Sendable {
    var gradients: ModelParameters
    /// Per task index: the sum of the unweighted losses of this shard's examples, and their number.
    var lossSums: [Double]
    var lossCounts: [Int]
    /// When measured: G[s·T + t] = Σ over this shard's examples of ⟨z_s, z_t⟩, where z_t is the
    /// example's gradient of task t's (coefficient-weighted) loss with respect to the shared
    /// representation (``Network/sharedRepresentationGradient(_:task:representationGradient:)``).
    var gram: [Double]
    private var softmax = BatchedSoftmax()
    /// Between the halves, for a model that trains in batches (``Network/trainsInBatches``): the
    /// slice's forward pass, per task the representation's gradient rows, and the session
    /// query's gradient rows (for a model that adds the attention output to the query, which
    /// passes them to the attention directly).
    private var batchPass: BatchedTrainingPass?
    private var batchRepresentationGradients: [[Float]?] = []
    private var batchSessionQueryGradients: [Float]?
    /// Between the halves, for the other models: the same per example.
    private var passes: [Network.ForwardPass] = []
    private var representationGradients: [[[Float]?]] = []
    private var sessionQueryGradients: [[Float]?] = []
    /// Between the halves: the session encoder's passes over this shard's chunks.
    private var encoderPieces: EncoderPieces?
    /// Per task, the item table's gradient from that task's loss alone (when kept separate).
    private var taskItemGradients: [ModelParameters] = []

    init(layout: ParameterLayout, taskCount: Int) {
        gradients = ModelParameters(zerosFor: layout)
        lossSums = Array(repeating: 0, count: taskCount)
        lossCounts = Array(repeating: 0, count: taskCount)
        gram = Array(repeating: 0, count: taskCount * taskCount)
    }

    /// Computes the gradient of Σ_examples Σ_m c_m · loss_m(example) into ``gradients``
    /// (cleared first), where `taskCoefficients[m]` = λ_m / (examples of task m in the batch).
    ///
    /// - Parameters:
    ///   - sampleSeeds: one seed per example for its negatives (used only when a head samples)
    ///     and, for the first example of a chunk, the session encoder's dropout masks.
    ///   - dropoutRate: the session encoder's dropout (0: none).
    func compute(
        _ examples: ArraySlice<TrainingExample>, sampleSeeds: ArraySlice<UInt64>, data: TrainingData,
        network: Network, parameters: ModelParameters, plan: SoftmaxPlan, taskCoefficients: [Float],
        dropoutRate: Float = 0, measureGram: Bool = false
    ) {
        computeHeads(examples, sampleSeeds: sampleSeeds, data: data, network: network, parameters: parameters, plan: plan,
                     taskCoefficients: taskCoefficients, dropoutRate: dropoutRate, separateItemGradients: false, measureGram: measureGram)
        finish(network: network, parameters: parameters, taskScales: nil)
    }

    /// The first half of a step: clears the buffers, runs the forward pass (the session
    /// attention once per chunk of the slice), the heads' losses (scaled by `taskCoefficients`)
    /// and the heads' backward pass, and keeps what the second half needs. With
    /// `separateItemGradients`, each task's gradient of the item table is kept apart until
    /// ``finish(network:parameters:taskScales:)`` weighs it.
    func computeHeads(
        _ examples: ArraySlice<TrainingExample>, sampleSeeds: ArraySlice<UInt64>, data: TrainingData,
        network: Network, parameters: ModelParameters, plan: SoftmaxPlan, taskCoefficients: [Float],
        dropoutRate: Float = 0, separateItemGradients: Bool, measureGram: Bool
    ) {
        for name in gradients.tensors.keys {
            gradients.tensors[name]!.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        for t in lossSums.indices {
            lossSums[t] = 0
            lossCounts[t] = 0
        }
        for k in gram.indices { gram[k] = 0 }
        let c = network.configuration
        let domainCount = c.domains.count
        let taskCount = c.tasks.count
        let session = domainCount, nextDomain = domainCount + 1
        let d = c.embeddingDimension
        if separateItemGradients {
            if taskItemGradients.isEmpty {
                let items = ModelParameters(tensors: [
                    ParameterLayout.itemEmbedding: Tensor(zeros: gradients[ParameterLayout.itemEmbedding].shape),
                    ParameterLayout.itemBias: Tensor(zeros: gradients[ParameterLayout.itemBias].shape),
                ])
                taskItemGradients = Array(repeating: items, count: taskCount)
            } else {
                for t in taskItemGradients.indices {
                    for name in taskItemGradients[t].tensors.keys {
                        taskItemGradients[t].tensors[name]!.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
                    }
                }
            }
        }

        // With a session encoder: one pass per chunk of the slice, every example reading its row.
        if let encoder = network.sessionEncoder, let chunks = data.sequenceChunks {
            encoderPieces = EncoderPieces(examples, seeds: Array(sampleSeeds), data: data, chunks: chunks, encoder: encoder,
                                              parameters: parameters, dropoutRate: dropoutRate)
        } else {
            encoderPieces = nil
        }
        let pieces = encoderPieces
        let exampleCount = examples.count
        // Per task, the batched pass's output rows (its queries or logits); empty per example.
        var outputRows: [[Float]] = []
        if network.trainsInBatches && !examples.isEmpty && (network.sessionEncoder == nil || pieces != nil) {
            let inputs = examples.map { data.encodedInput($0) }
            let attention = inputs.indices.map { pieces?.output(forExample: $0, dimension: d) }
            let pass = network.forward(training: inputs, attentionOutputs: attention, parameters: parameters)
            batchPass = pass
            outputRows = (0..<domainCount).map { pass.domainQueries($0) } + [pass.sessionQueries, pass.nextDomainLogits]
        } else {
            batchPass = nil
            passes = examples.enumerated().map { i, example in
                let input = data.encodedInput(example)
                guard let pieces else { return network.forward(input, parameters: parameters) }
                return network.forward(input, parameters: parameters, attentionOutput: pieces.output(forExample: i, dimension: d))
            }
        }
        let batched = batchPass != nil
        let targets = examples.map { data.target($0) }
        // The loss gradients of the outputs: per task rows (batched) or per example.
        var gradientRows = [[Float]?](repeating: nil, count: taskCount)
        var outputs = passes.indices.map { _ in Network.OutputGradients(domainCount: domainCount) }
        func setGradient(_ task: Int, _ i: Int, _ g: [Float]) {
            if batched {
                let width = g.count
                if gradientRows[task] == nil { gradientRows[task] = [Float](repeating: 0, count: exampleCount * width) }
                for k in 0..<width { gradientRows[task]![i * width + k] = g[k] }
            } else if task == session {
                outputs[i].sessionQuery = g
            } else if task == nextDomain {
                outputs[i].nextDomainLogits = g
            } else {
                outputs[i].domainQueries[task] = g
            }
        }
        let seeds = Array(sampleSeeds)

        // Item heads: the session head over every example, each domain head over the examples
        // whose target is in its domain.
        var headExamples: [(task: Int, members: [Int], rows: Range<Int>, sampler: NegativeSampler?)] = []
        if taskCoefficients[session] > 0 {
            headExamples.append((session, Array(0..<exampleCount), 0..<data.catalog.count, plan.sessionSampler))
        }
        for domain in 0..<domainCount where taskCoefficients[domain] > 0 {
            let members = (0..<exampleCount).filter { targets[$0].domain == domain }
            if !members.isEmpty {
                headExamples.append((domain, members, data.catalog.domainRanges[domain], plan.domainSamplers[domain]))
            }
        }
        for (task, members, rows, sampler) in headExamples {
            let weight = taskCoefficients[task]
            func query(_ i: Int) -> [Float] {
                if batched { return Array(outputRows[task][(i * d)..<((i + 1) * d)]) }
                return task == session ? passes[i].sessionQuery : passes[i].domainQuery(task)
            }
            func accumulate(into itemGradients: inout ModelParameters) {
                if let sampler {
                    for i in members {
                        // The seed differs per head so the session and domain heads draw independently.
                        var rng = SplitMix64(seed: seeds[i] &+ UInt64(task) &* 0x9E37_79B9_7F4A_7C15)
                        let (negatives, logQ) = sampler.sample(plan.negatives, using: &rng)
                        let result = Losses.sampledSoftmaxCrossEntropy(
                            query: query(i), target: targets[i].row,
                            targetLogProbability: sampler.logProbability(ofRow: targets[i].row),
                            negatives: negatives, negativeLogProbabilities: logQ, parameters: parameters,
                            weight: weight, gradients: &itemGradients)
                        lossSums[task] += Double(result.loss)
                        setGradient(task, i, result.inputGradient)
                    }
                } else {
                    var queries = [Float]()
                    queries.reserveCapacity(members.count * d)
                    for i in members { queries.append(contentsOf: query(i)) }
                    let (losses, dQueries) = softmax.crossEntropy(
                        queries: queries, targets: members.map { targets[$0].row },
                        weights: Array(repeating: weight, count: members.count), rows: rows,
                        parameters: parameters, gradients: &itemGradients)
                    for (k, i) in members.enumerated() {
                        lossSums[task] += Double(losses[k])
                        setGradient(task, i, Array(dQueries[(k * d)..<((k + 1) * d)]))
                    }
                }
            }
            // The item table's gradient goes to the task's own buffer when kept apart (moved
            // out and back, so that it is not copied).
            if separateItemGradients {
                var own = taskItemGradients[task]
                taskItemGradients[task] = ModelParameters(tensors: [:])
                accumulate(into: &own)
                taskItemGradients[task] = own
            } else {
                accumulate(into: &gradients)
            }
            lossCounts[task] += members.count
        }
        if taskCoefficients[nextDomain] > 0 {
            for i in 0..<exampleCount {
                let logits = batched ? Array(outputRows[nextDomain][(i * domainCount)..<((i + 1) * domainCount)])
                                     : passes[i].nextDomainLogits
                let result = Losses.nextDomainCrossEntropy(logits: logits, target: targets[i].domain,
                                                           weight: taskCoefficients[nextDomain])
                lossSums[nextDomain] += Double(result.loss)
                setGradient(nextDomain, i, result.inputGradient)
            }
            lossCounts[nextDomain] += exampleCount
        }
        if let batchPass {
            batchRepresentationGradients = network.backwardHeads(batchPass, outputGradients: gradientRows,
                                                                 parameters: parameters, into: &gradients)
            batchSessionQueryGradients = gradientRows[session]
            // The MLP encoder's tasks share the representation itself: G[s·T + t] sums the
            // products of their gradient rows.
            if measureGram { addToGram(batchRepresentationGradients) }
            return
        }
        representationGradients = passes.indices.map { i in
            network.backwardHeads(passes[i], outputGradients: outputs[i], parameters: parameters, into: &gradients)
        }
        sessionQueryGradients = outputs.map(\.sessionQuery)
        if measureGram {
            for i in passes.indices {
                let shared = representationGradients[i].enumerated().map { t, dr in
                    dr.map { network.sharedRepresentationGradient(passes[i], task: t, representationGradient: $0) }
                }
                addToGram(shared)
            }
        }
    }

    /// Adds ⟨z_s, z_t⟩ to G[s·T + t] for every pair of tasks with a gradient (nil: none).
    private func addToGram(_ z: [[Float]?]) {
        TaskGram.add(z, to: &gram)
    }

    /// The second half of a step: scales each task's head and item-table gradients and its
    /// representation gradients by `taskScales` (when given), then runs the shared encoder's
    /// and the embeddings' backward pass.
    func finish(network: Network, parameters: ModelParameters, taskScales: [Float]?) {
        if let taskScales {
            for (t, scale) in taskScales.enumerated() {
                for name in network.headParameterNames(t) {
                    gradients.tensors[name]!.scalars.withUnsafeMutableBufferPointer { g in
                        for k in g.indices { g[k] *= scale }
                    }
                }
                if t < taskItemGradients.count {
                    for (name, tensor) in taskItemGradients[t].tensors where scale != 0 {
                        gradients.tensors[name]!.scalars.withUnsafeMutableBufferPointer { g in
                            tensor.scalars.withUnsafeBufferPointer { source in
                                for k in g.indices { g[k] += scale * source[k] }
                            }
                        }
                    }
                }
            }
            let sessionScale = taskScales[network.configuration.domains.count]
            for t in batchRepresentationGradients.indices {
                batchRepresentationGradients[t] = batchRepresentationGradients[t].map { dr in dr.map { taskScales[t] * $0 } }
            }
            batchSessionQueryGradients = batchSessionQueryGradients.map { g in g.map { sessionScale * $0 } }
            for i in representationGradients.indices {
                for t in representationGradients[i].indices {
                    representationGradients[i][t] = representationGradients[i][t].map { dr in dr.map { taskScales[t] * $0 } }
                }
                sessionQueryGradients[i] = sessionQueryGradients[i].map { g in g.map { sessionScale * $0 } }
            }
        }
        var encoderGradients: [[Float]?]
        if let batchPass {
            let rows = network.backwardEncoder(batchPass, representationGradients: batchRepresentationGradients,
                                               sessionQueryGradients: batchSessionQueryGradients,
                                               parameters: parameters, into: &gradients)
            encoderGradients = rows.map { $0.map(Optional.some) } ?? Array(repeating: nil, count: batchPass.count)
        } else {
            encoderGradients = passes.indices.map { i in
                network.backwardEncoder(passes[i], representationGradients: representationGradients[i],
                                        sessionQueryGradient: sessionQueryGradients[i],
                                        parameters: parameters, into: &gradients)
            }
        }
        if let pieces = encoderPieces, let encoder = network.sessionEncoder {
            pieces.backward(encoderGradients, encoder: encoder, parameters: parameters, into: &gradients)
        }
        batchPass = nil
        batchRepresentationGradients = []
        batchSessionQueryGradients = nil
        passes = []
        representationGradients = []
        sessionQueryGradients = []
        encoderPieces = nil
    }
}
