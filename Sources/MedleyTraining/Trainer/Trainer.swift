import Dispatch
import MedleyModel
import MedleyProtocol
import MedleySystem

/// Trains a multitask model from a stream of session events.
///
/// Each epoch shuffles the training examples (seeded), and for each mini-batch: splits it into
/// ``TrainingConfiguration/threads`` equal shards, computes each shard's gradient on its own
/// thread (at most ``TrainingConfiguration/cores`` at a time) into its own buffers (forward
/// pass, the heads' losses, backward pass), adds the shards up in shard order, and takes one
/// Adam step. After each epoch it measures the trained
/// heads on the validation examples and stops early when the chosen metric stops improving,
/// keeping the best epoch's parameters.
///
/// Deterministic: the same events, configuration (seed and thread count included) and model
/// version give a bit-identical model, however the threads are scheduled and whatever the
/// core limit.
///
/// While it runs, OpenBLAS is set to one thread per call (process-wide), since the trainer's
/// own threads already use every core; the previous setting is restored at the end.
public struct Trainer: Sendable {
    public let configuration: TrainingConfiguration

    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Reads the events (see ``TrainingData/init(events:configuration:)``) and trains.
    public func train(
        events: [Medley_V1_SessionEvent], modelVersion: UInt64, continuingFrom previous: ModelFileContents? = nil,
        progress: (@Sendable (TrainingProgress) -> Void)? = nil
    ) throws(TrainingError) -> TrainingResult {
        try train(TrainingData(events: events, configuration: configuration), modelVersion: modelVersion,
                  continuingFrom: previous, progress: progress)
    }

    /// Trains on prepared data. The data must have been read with the same domains, session
    /// rules, validation split and input encoding (event weights, half-life, slots, context)
    /// as this trainer's configuration; the model's sizes and the optimisation may differ.
    ///
    /// With `previous`, training continues from that model: known items, users and same-shaped
    /// weights start from its values (``WarmStart``), new ones from the seeded initialisation.
    public func train(
        _ data: TrainingData, modelVersion: UInt64, continuingFrom previous: ModelFileContents? = nil,
        progress: (@Sendable (TrainingProgress) -> Void)? = nil
    ) throws(TrainingError) -> TrainingResult {
        let c = configuration
        try c.validate()
        try checkCompatible(data)
        var modelConfiguration = c.model
        modelConfiguration.modelVersion = modelVersion
        var initial: ModelFileContents
        do {
            initial = try ModelFileContents.initialized(configuration: modelConfiguration, catalog: data.catalog,
                                                        users: data.users, seed: c.seed)
        } catch {
            throw .model(error)
        }
        if let previous {
            initial = ModelFileContents(configuration: initial.configuration, catalog: initial.catalog, users: initial.users,
                                        parameters: WarmStart.parameters(fresh: initial, previous: previous))
        }
        let layout = initial.layout
        let network = Network(configuration: modelConfiguration)
        let tasks = modelConfiguration.tasks
        let domainCount = modelConfiguration.domains.count
        let trainedTasks = tasks.filter(c.taskWeighting.trains)
        let plan = SoftmaxPlan(data: data, configuration: c)
        let parameterCount = layout.entries.reduce(0) { $0 + Tensor.elementCount(of: $1.shape) }
        var parameters = initial.parameters
        var optimizer = AdamOptimizer(layout: layout, configuration: c)
        var weights = TaskWeightState(tasks: tasks, weighting: c.taskWeighting)
        let shards = (0..<c.threads).map { _ in GradientShard(layout: layout, taskCount: tasks.count) }
        let validator = Validator(data: data, network: network, cutoff: stoppingCutoff, threads: c.threads, cores: c.concurrentThreads)

        // Left alone when already 1: models trained side by side would otherwise set and
        // restore it under each other.
        let previousBLASThreads = BLASThreads.count
        if previousBLASThreads != 1 { BLASThreads.set(1) }
        defer { if previousBLASThreads != 1 { BLASThreads.set(previousBLASThreads) } }

        progress?(.started(data.statistics, parameterCount: parameterCount))
        let clock = ContinuousClock()
        let runStart = clock.now
        var trainingSeconds = 0.0
        var trainedExamples = 0
        var reports: [EpochReport] = []
        var best: (epoch: Int, metric: Double, parameters: ModelParameters)?
        var epochsWithoutImprovement = 0
        var stopReason = TrainingSummary.StopReason.completedEpochs
        let epochExamples = LossBearingExamples(data, trains: c.taskWeighting.trains)
        var order = epochExamples.indices
        let batchCount = (order.count + c.batchSize - 1) / c.batchSize

        for epoch in 1...c.epochs {
            let epochStart = clock.now
            let epochLearningRate = optimizer.learningRate
            weights.startEpoch()
            if let chunks = epochExamples.chunks {
                // Chunks in random order, each chunk's examples together (whole-sequence training).
                var chunkOrder = Array(chunks.indices)
                Self.shuffle(&chunkOrder, seed: Self.mix(c.seed, UInt64(epoch)))
                order = chunkOrder.flatMap { chunks[$0] }
            } else {
                Self.shuffle(&order, seed: Self.mix(c.seed, UInt64(epoch)))
            }
            var epochSums = [Double](repeating: 0, count: tasks.count), epochCounts = [Int](repeating: 0, count: tasks.count)
            var recentSums = epochSums, recentCounts = epochCounts
            var lastReport = clock.now
            var examplesSinceReport = 0

            for batch in 0..<batchCount {
                let positions = (batch * c.batchSize)..<min(order.count, (batch + 1) * c.batchSize)
                let examples = positions.map { data.trainingExamples[order[$0]] }
                let seeds = positions.map { Self.mix(Self.mix(c.seed, UInt64(epoch)), UInt64($0)) }
                // λ_m / n_m: the task's mean over the batch's examples that have it.
                var counts = [Int](repeating: 0, count: tasks.count)
                counts[domainCount] = examples.count
                counts[domainCount + 1] = examples.count
                for example in examples { counts[data.target(example).domain] += 1 }
                // MGDA weighs the tasks inside the step: their losses enter with weight 1 and
                // are rescaled once every task's gradient of this batch is known.
                let coefficients = tasks.indices.map { t in
                    guard counts[t] > 0 && c.taskWeighting.trains(tasks[t]) else { return Float(0) }
                    return (weights.combinesWithinStep ? 1 : weights.weight(t)) / Float(counts[t])
                }
                let perShard = (examples.count + shards.count - 1) / shards.count
                let ranges = shards.indices.map { s in min(examples.count, s * perShard)..<min(examples.count, (s + 1) * perShard) }
                var gram = [Double](repeating: 0, count: tasks.count * tasks.count)
                func addGrams() {
                    for shard in shards { for k in gram.indices { gram[k] += shard.gram[k] } }
                }
                do {
                    // Scoped so that the threads' copy is gone before the optimiser writes the
                    // parameters in place (otherwise every tensor would be copied each step).
                    let current = parameters
                    if weights.combinesWithinStep {
                        CoreLimitedWork.perform(shards.count, cores: c.concurrentThreads) { s in
                            shards[s].computeHeads(examples[ranges[s]], sampleSeeds: seeds[ranges[s]], data: data, network: network,
                                                   parameters: current, plan: plan, taskCoefficients: coefficients,
                                                   dropoutRate: c.dropout, separateItemGradients: true, measureGram: true)
                        }
                        addGrams()
                        let scales = weights.combine(gram: gram, present: coefficients.map { $0 > 0 })
                        CoreLimitedWork.perform(shards.count, cores: c.concurrentThreads) { s in
                            shards[s].finish(network: network, parameters: current, taskScales: scales)
                        }
                    } else {
                        let measureGram = weights.needsGradientNorms
                        CoreLimitedWork.perform(shards.count, cores: c.concurrentThreads) { s in
                            shards[s].compute(examples[ranges[s]], sampleSeeds: seeds[ranges[s]], data: data, network: network,
                                              parameters: current, plan: plan, taskCoefficients: coefficients,
                                              dropoutRate: c.dropout, measureGram: measureGram)
                        }
                        if measureGram { addGrams() }
                    }
                }
                for s in 1..<shards.count { shards[0].gradients.add(shards[s].gradients, threads: c.concurrentThreads) }
                let gradientNorms = tasks.indices.map { t in
                    coefficients[t] > 0 ? Float(gram[t * tasks.count + t].squareRoot()) : nil
                }

                var meanLosses = [Float?](repeating: nil, count: tasks.count)
                for t in tasks.indices {
                    let sum = shards.reduce(0.0) { $0 + $1.lossSums[t] }
                    let count = shards.reduce(0) { $0 + $1.lossCounts[t] }
                    guard count > 0 else { continue }
                    guard sum.isFinite else { throw .diverged(epoch: epoch, batch: batch + 1) }
                    meanLosses[t] = Float(sum / Double(count))
                    epochSums[t] += sum
                    epochCounts[t] += count
                    recentSums[t] += sum
                    recentCounts[t] += count
                }
                weights.update(meanLosses: meanLosses, gradientNorms: gradientNorms, learningRate: c.learningRate, beta1: c.adamBeta1,
                               beta2: c.adamBeta2, epsilon: c.adamEpsilon)
                optimizer.update(&parameters, gradients: shards[0].gradients)
                examplesSinceReport += examples.count

                let now = clock.now
                if let progress, seconds(now - lastReport) >= c.progressIntervalSeconds {
                    progress(.batches(BatchProgress(
                        epoch: epoch, batch: batch + 1, batches: batchCount,
                        examplesPerSecond: Double(examplesSinceReport) / max(1e-9, seconds(now - lastReport)),
                        taskLosses: Self.means(recentSums, recentCounts, tasks: tasks),
                        taskWeights: weights.weights.filter { c.taskWeighting.trains($0.key) })))
                    lastReport = now
                    examplesSinceReport = 0
                    recentSums = recentSums.map { _ in 0 }
                    recentCounts = recentCounts.map { _ in 0 }
                }
            }
            let epochSeconds = seconds(clock.now - epochStart)
            trainingSeconds += epochSeconds
            trainedExamples += order.count
            guard parameters.tensors.values.allSatisfy(\.isFinite) else { throw .diverged(epoch: epoch, batch: batchCount) }

            var validation: ValidationMetrics?
            var metric: Double?
            var isBest = false
            if !data.validationExamples.isEmpty {
                let measured = validator.measure(data.validationExamples, parameters: parameters, tasks: trainedTasks)
                validation = measured
                let value = stoppingValue(measured)
                metric = value
                if best == nil || value > best!.metric {
                    best = (epoch, value, parameters)
                    isBest = true
                    epochsWithoutImprovement = 0
                } else {
                    epochsWithoutImprovement += 1
                }
            }
            let report = EpochReport(
                epoch: epoch, trainingLosses: Self.means(epochSums, epochCounts, tasks: tasks),
                taskWeights: weights.weights.filter { c.taskWeighting.trains($0.key) },
                logVariances: c.taskWeighting == .uncertainty
                    ? Dictionary(uniqueKeysWithValues: zip(tasks, weights.logVariances)) : [:],
                validation: validation, stoppingMetric: metric.map { c.earlyStopping.metric == .validationLoss ? -$0 : $0 },
                isBest: isBest, learningRate: epochLearningRate, seconds: epochSeconds,
                examplesPerSecond: Double(order.count) / max(1e-9, epochSeconds))
            reports.append(report)
            progress?(.epochFinished(report))
            if let factor = c.learningRateDecayOnPlateau, metric != nil, !isBest {
                optimizer.scaleLearningRate(by: factor)
            }
            if c.earlyStopping.enabled, epochsWithoutImprovement >= c.earlyStopping.patience, epoch < c.epochs {
                stopReason = .earlyStopping(patience: c.earlyStopping.patience)
                break
            }
        }

        let kept = best ?? (reports.count, 0, parameters)
        var model = initial
        model.parameters = kept.parameters
        var rulesFit: RulesFit?
        if let blend = c.sequentialRules, trainedTasks.contains(.session), !data.validationExamples.isEmpty {
            var table = blend.rules(data)
            let ndcg = blend.fit(table, data: data, network: network, parameters: kept.parameters,
                                 examples: data.validationExamples, threads: c.threads, cores: c.concurrentThreads)
            let chosen = SequentialRulesBlend.best(ndcg) ?? RulesChoice(depth: 1, weight: 0)
            table.weight = chosen.weight
            table.depth = chosen.depth
            table.repeatBias = chosen.repeatBias
            if chosen.weight > 0 || chosen.repeatBias != 0 { model.sequentialRules = table }
            rulesFit = RulesFit(chosen: chosen, rules: table.ruleCount, ndcg: ndcg, cutoff: blend.cutoff)
        }
        var shareFit: DomainListShareChoice?
        let trainedDomains = Set(modelConfiguration.domains.indices.filter { trainedTasks.contains(.domain($0)) })
        if let fit = c.domainListShare, trainedTasks.contains(.session), !trainedDomains.isEmpty, !data.validationExamples.isEmpty {
            do {
                let ndcg = fit.fit(model: try MultitaskModel(model), data: data, examples: data.validationExamples,
                                   domains: trainedDomains, threads: c.threads, cores: c.concurrentThreads)
                let share = DomainListShareFit.best(ndcg) ?? 0
                model.domainListSessionShare = share
                shareFit = DomainListShareChoice(share: share, ndcg: ndcg, cutoff: fit.cutoff)
            } catch {
                preconditionFailure("the trainer's own model is refused: \(error)")
            }
        }
        let summary = TrainingSummary(
            modelVersion: modelVersion, domains: modelConfiguration.domains, statistics: data.statistics,
            itemCount: data.catalog.count, userCount: data.users.count, parameterCount: parameterCount,
            sampledDomainHeads: plan.domainSamplers.map { $0 != nil }, sampledSessionHead: plan.sessionSampler != nil,
            epochs: reports, keptEpoch: kept.epoch, stopReason: stopReason,
            seconds: seconds(clock.now - runStart),
            examplesPerSecond: Double(trainedExamples) / max(1e-9, trainingSeconds), examplesPerEpoch: order.count, threads: c.threads,
            sequentialRules: rulesFit, domainListShare: shareFit)
        return TrainingResult(model: model, summary: summary)
    }

    /// The cutoff K of the validation figures: the early-stopping metric's, else 10.
    private var stoppingCutoff: Int {
        if case .hitRate(_, let k) = configuration.earlyStopping.metric { return k }
        return 10
    }

    /// The stopping metric, oriented so that higher is better.
    private func stoppingValue(_ metrics: ValidationMetrics) -> Double {
        switch configuration.earlyStopping.metric {
        case .validationLoss: return -metrics.totalLoss
        case .hitRate(let task, _): return metrics.tasks[task]?.hitRate ?? 0
        }
    }

    private func checkCompatible(_ data: TrainingData) throws(TrainingError) {
        let a = data.builder.model, b = configuration.model
        guard a.domains == b.domains, a.lastItemSlots == b.lastItemSlots, a.eventWeights == b.eventWeights,
              a.recencyHalfLifeSeconds == b.recencyHalfLifeSeconds, a.contextDimension == b.contextDimension,
              a.sessionEncoder?.length == b.sessionEncoder?.length, a.sessionEncoder?.input == b.sessionEncoder?.input,
              data.builder.maxSessionLength == configuration.maxSessionLength,
              data.sessionGapMilliseconds == configuration.sessionGapMilliseconds,
              data.validationSplit == configuration.validation
        else {
            throw .invalidConfiguration("data", "the data was prepared with other domains, session rules, validation split or input encoding")
        }
    }

    private static func means(_ sums: [Double], _ counts: [Int], tasks: [Task]) -> [Task: Double] {
        var result: [Task: Double] = [:]
        for t in tasks.indices where counts[t] > 0 { result[tasks[t]] = sums[t] / Double(counts[t]) }
        return result
    }

    /// Fisher–Yates with SplitMix64, written out so that the order does not depend on the
    /// standard library's shuffling algorithm.
    package static func shuffle(_ values: inout [Int], seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var i = values.count - 1
        while i > 0 {
            let j = Int(rng.next() % UInt64(i + 1))
            values.swapAt(i, j)
            i -= 1
        }
    }

    /// A seed derived from two numbers.
    package static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var rng = SplitMix64(seed: a ^ (b &* 0xD1B5_4A32_D192_ED03))
        return rng.next()
    }
}

/// A duration in seconds, as a floating-point number.
private func seconds(_ duration: Duration) -> Double {
    let (s, attoseconds) = duration.components
    return Double(s) + Double(attoseconds) * 1e-18
}
