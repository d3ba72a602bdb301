import MedleyModel

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
/// `@unchecked Sendable`: a shard is handed to exactly one thread per batch (shard `s` to
/// iteration `s` of `concurrentPerform`), and read by the trainer only after all return.
final class GradientShard: @unchecked Sendable {
    var gradients: ModelParameters
    /// Per task index: the sum of the unweighted losses of this shard's examples, and their number.
    var lossSums: [Double]
    var lossCounts: [Int]
    private var softmax = BatchedSoftmax()

    init(layout: ParameterLayout, taskCount: Int) {
        gradients = ModelParameters(zerosFor: layout)
        lossSums = Array(repeating: 0, count: taskCount)
        lossCounts = Array(repeating: 0, count: taskCount)
    }

    /// Computes the gradient of Σ_examples Σ_m c_m · loss_m(example) into ``gradients``
    /// (cleared first), where `taskCoefficients[m]` = λ_m / (examples of task m in the batch).
    ///
    /// - Parameters:
    ///   - sampleSeeds: one seed per example for its negatives (used only when a head samples)
    ///     and, for the first example of a chunk, the session attention's dropout masks.
    ///   - dropoutRate: the session attention's dropout (0: none).
    func compute(
        _ examples: ArraySlice<TrainingExample>, sampleSeeds: ArraySlice<UInt64>, data: TrainingData,
        network: Network, parameters: ModelParameters, plan: SoftmaxPlan, taskCoefficients: [Float],
        dropoutRate: Float = 0
    ) {
        for name in gradients.tensors.keys {
            gradients.tensors[name]!.scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        for t in lossSums.indices {
            lossSums[t] = 0
            lossCounts[t] = 0
        }
        let c = network.configuration
        let domainCount = c.domains.count
        let session = domainCount, nextDomain = domainCount + 1
        let d = c.embeddingDimension

        // With the session attention: one pass per chunk of the slice, every example reading its row.
        let pieces = network.attention.map {
            AttentionPieces(examples, seeds: Array(sampleSeeds), data: data, attention: $0, parameters: parameters,
                            dropoutRate: dropoutRate)
        }
        let passes = examples.enumerated().map { i, example in
            let input = data.encodedInput(example)
            guard let pieces else { return network.forward(input, parameters: parameters) }
            return network.forward(input, parameters: parameters, attentionOutput: pieces.output(forExample: i, dimension: d))
        }
        let targets = examples.map { data.target($0) }
        var outputs = passes.indices.map { _ in Network.OutputGradients(domainCount: domainCount) }
        let seeds = Array(sampleSeeds)

        // Item heads: the session head over every example, each domain head over the examples
        // whose target is in its domain.
        var headExamples: [(task: Int, members: [Int], rows: Range<Int>, sampler: NegativeSampler?)] = []
        if taskCoefficients[session] > 0 {
            headExamples.append((session, Array(passes.indices), 0..<data.catalog.count, plan.sessionSampler))
        }
        for domain in 0..<domainCount where taskCoefficients[domain] > 0 {
            let members = passes.indices.filter { targets[$0].domain == domain }
            if !members.isEmpty {
                headExamples.append((domain, members, data.catalog.domainRanges[domain], plan.domainSamplers[domain]))
            }
        }
        for (task, members, rows, sampler) in headExamples {
            let weight = taskCoefficients[task]
            func query(_ i: Int) -> [Float] { task == session ? passes[i].sessionQuery : passes[i].domainQuery(task) }
            func setGradient(_ i: Int, _ g: [Float]) {
                if task == session { outputs[i].sessionQuery = g } else { outputs[i].domainQueries[task] = g }
            }
            if let sampler {
                for i in members {
                    // The seed differs per head so the session and domain heads draw independently.
                    var rng = SplitMix64(seed: seeds[i] &+ UInt64(task) &* 0x9E37_79B9_7F4A_7C15)
                    let (negatives, logQ) = sampler.sample(plan.negatives, using: &rng)
                    let result = Losses.sampledSoftmaxCrossEntropy(
                        query: query(i), target: targets[i].row,
                        targetLogProbability: sampler.logProbability(ofRow: targets[i].row),
                        negatives: negatives, negativeLogProbabilities: logQ, parameters: parameters,
                        weight: weight, gradients: &gradients)
                    lossSums[task] += Double(result.loss)
                    setGradient(i, result.inputGradient)
                }
            } else {
                var queries = [Float]()
                queries.reserveCapacity(members.count * d)
                for i in members { queries.append(contentsOf: query(i)) }
                let (losses, dQueries) = softmax.crossEntropy(
                    queries: queries, targets: members.map { targets[$0].row },
                    weights: Array(repeating: weight, count: members.count), rows: rows,
                    parameters: parameters, gradients: &gradients)
                for (k, i) in members.enumerated() {
                    lossSums[task] += Double(losses[k])
                    setGradient(i, Array(dQueries[(k * d)..<((k + 1) * d)]))
                }
            }
            lossCounts[task] += members.count
        }
        if taskCoefficients[nextDomain] > 0 {
            for i in passes.indices {
                let result = Losses.nextDomainCrossEntropy(logits: passes[i].nextDomainLogits, target: targets[i].domain,
                                                           weight: taskCoefficients[nextDomain])
                lossSums[nextDomain] += Double(result.loss)
                outputs[i].nextDomainLogits = result.inputGradient
            }
            lossCounts[nextDomain] += passes.count
        }
        var attentionGradients = [[Float]?](repeating: nil, count: passes.count)
        for i in passes.indices {
            attentionGradients[i] = network.backward(passes[i], outputGradients: outputs[i], parameters: parameters, into: &gradients)
        }
        if let pieces, let attention = network.attention {
            pieces.backward(attentionGradients, attention: attention, parameters: parameters, into: &gradients)
        }
    }
}
