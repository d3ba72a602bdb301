import Foundation
import Logging
import MedleyModel
import MedleyProtocol
import MedleyTraining

/// Trains the models an evaluation compares, on exactly the interactions the baselines are
/// fitted on, and turns them into scorers: the multitask model (each domain head, and the
/// session head) and the single-task baselines (one model per head, trained on that head's
/// loss alone, ``TrainingConfiguration/singleTask(_:)``). All of them read one
/// ``TrainingData``, so they see the same examples, vocabularies and validation hold-out.
public enum ModelEvaluation {
    /// Report names of the model scorers.
    public static let multitaskDomainHeads = "Medley multitask (domain heads)"
    public static let multitaskSessionHead = "Medley multitask (session head)"
    public static let singleTaskDomainHeads = "single-task (domain heads)"
    public static let singleTaskSessionHead = "single-task (session head)"

    /// How the models are trained.
    public struct Configuration: Sendable {
        /// The trainer's settings (epochs, dimensions, seed, threads...). Its model's domains
        /// are replaced by the evaluated data set's.
        public var training: TrainingConfiguration
        /// The heads that get a single-task baseline. Default: every domain head and the
        /// session head. Empty: train the multitask model only.
        public var singleTaskHeads: SingleTaskHeads
        /// Further multitask models trained on the same data, each with its own encoder and
        /// task weighting (the rest as `training`), for comparisons. Default none.
        public var variants: [Variant]
        /// How many models train at the same time, the machine's cores shared among them (each
        /// with ``TrainingConfiguration/cores`` set to its part). The models are the same
        /// whatever the number; only the time changes. Default: one per core. Two side by side
        /// on one core each finish sooner on this project's 2-core machines than one after the
        /// other on both (docs/training.md, "Speed").
        public var modelsAtOnce: Int

        /// A multitask model's encoder and task weighting.
        public struct Variant: Sendable, Equatable {
            public var architecture: ModelConfiguration.Architecture
            public var taskWeighting: TaskWeighting

            public init(architecture: ModelConfiguration.Architecture, taskWeighting: TaskWeighting) {
                self.architecture = architecture
                self.taskWeighting = taskWeighting
            }

            /// How reports name it, e.g. "ple:2:1:2/mgda".
            public var label: String { "\(ModelEvaluation.label(architecture))/\(ModelEvaluation.label(taskWeighting))" }
        }

        /// Which single-task baselines to train.
        public enum SingleTaskHeads: String, Sendable, CaseIterable {
            /// One per domain head and one for the session head.
            case all
            /// One per domain head.
            case domains
            /// One for the session head.
            case session
            /// None.
            case none
        }

        public init(training: TrainingConfiguration = TrainingConfiguration(), singleTaskHeads: SingleTaskHeads = .all,
                    variants: [Variant] = [], modelsAtOnce: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.training = training
            self.singleTaskHeads = singleTaskHeads
            self.variants = variants
            self.modelsAtOnce = modelsAtOnce
        }
    }

    /// Where the evaluated model comes from.
    public enum Source: Sendable {
        /// Train the multitask model (and the single-task baselines) on the split's training part.
        case train(Configuration)
        /// Evaluate a given model, trained elsewhere; the split's training part is only the
        /// baselines'. Its session rules are the trainer's defaults unless given.
        case given(MultitaskModel, rules: SessionRules = SessionRules())
    }

    /// One trained model and how its training went.
    public struct TrainedModel: Sendable {
        public var model: MultitaskModel
        public var summary: TrainingSummary
    }

    /// The models of one evaluation.
    public struct Models: Sendable {
        /// The multitask model.
        public var multitask: MultitaskModel
        /// How it was trained, or nil for a given model.
        public var multitaskSummary: TrainingSummary?
        /// The single-task baselines by head.
        public var singleTask: [Task: TrainedModel]
        /// How inputs are built from past interactions (the trainer's rules).
        public var rules: SessionRules
        /// Seconds spent preparing the data and training everything.
        public var trainingSeconds: Double
        /// The further multitask models of a comparison, by variant.
        public var variants: [(variant: Configuration.Variant, trained: TrainedModel)] = []
        /// How many models trained at the same time, and the cores each had (nil when trained
        /// elsewhere).
        public var schedule: (modelsAtOnce: Int, coresEach: Int)? = nil
    }

    /// An encoder as the command line spells it: `mlp`, `mmoe:E`, `ple:S:P:V`.
    public static func label(_ architecture: ModelConfiguration.Architecture) -> String {
        switch architecture {
        case .mlp: return "mlp"
        case .mmoe(let experts): return "mmoe:\(experts)"
        case .ple(let shared, let own, let levels): return "ple:\(shared):\(own):\(levels)"
        }
    }

    /// A task weighting as the command line spells it.
    public static func label(_ weighting: TaskWeighting) -> String {
        switch weighting {
        case .equal: return "equal"
        case .fixed: return "fixed"
        case .uncertainty: return "uncertainty"
        case .gradNorm(let alpha): return "gradnorm:\(alpha)"
        case .mgda: return "mgda"
        }
    }

    /// Report names of a comparison variant's scorers.
    public static func variantDomainHeads(_ variant: Configuration.Variant) -> String { "Medley \(variant.label) (domain heads)" }
    public static func variantSessionHead(_ variant: Configuration.Variant) -> String { "Medley \(variant.label) (session head)" }

    /// A scorer with the time it took to obtain (training) and whether its cross-domain row
    /// means anything (not for domain heads, whose domains are scored by different heads).
    public struct EvaluatedScorer: Sendable {
        public var scorer: ModelScorer
        public var fitSeconds: Double
        public var ranksAcrossDomains: Bool
    }

    /// The first `trainingLength[u]` interactions of each user as session events, user after
    /// user, each user's in time order: the trainer's input. Events carry no session id, so
    /// the trainer cuts sessions at time gaps only, as ``ModelScorer``'s inputs do.
    public static func trainingEvents(dataset: SequenceDataset, trainingLength: [Int]) -> [Medley_V1_SessionEvent] {
        precondition(trainingLength.count == dataset.userCount, "one training length per user")
        var events: [Medley_V1_SessionEvent] = []
        events.reserveCapacity(trainingLength.reduce(0, +))
        for u in 0..<dataset.userCount {
            for p in 0..<trainingLength[u] {
                let item = dataset.sequences[u][p]
                var event = Medley_V1_SessionEvent()
                event.userID = dataset.userIDs[u]
                event.itemID = dataset.itemIDs[item]
                event.domain = dataset.domains[dataset.itemDomain[item]]
                event.type = dataset.eventTypes[u][p]
                event.timestampMs = dataset.timestamps[u][p]
                events.append(event)
            }
        }
        return events
    }

    /// Trains the multitask model and the configured single-task baselines on the first
    /// `trainingLength[u]` interactions of each user of `dataset`.
    public static func train(dataset: SequenceDataset, trainingLength: [Int], configuration: Configuration,
                             logger: Logger = Logger(label: "medley.training.eval")) throws(TrainingError) -> Models {
        let start = ContinuousClock.now
        var training = configuration.training
        training.model.domains = dataset.domains
        let data = try TrainingData(events: trainingEvents(dataset: dataset, trainingLength: trainingLength), configuration: training)
        logger.info("training data", metadata: [
            "events": "\(data.statistics.eventsRead)", "examples": "\(data.statistics.trainingExamples)",
            "validation": "\(data.statistics.validationExamples)", "items": "\(data.catalog.count)", "users": "\(data.users.count)",
        ])
        @Sendable func trainOne(_ name: String, _ c: TrainingConfiguration) throws(TrainingError) -> TrainedModel {
            logger.info("training \(name)", metadata: ["epochs": "\(c.epochs)"])
            let result = try Trainer(configuration: c).train(data, modelVersion: 1) { progress in
                switch progress {
                case .started, .batches:
                    break
                case .epochFinished(let report):
                    let validation = report.validation.map { v in
                        v.tasks.filter { $0.key != .nextDomain }.map { task, metrics in
                            "\(ParameterLayout.taskName(task, domains: dataset.domains)) HR@\(v.cutoff) \(String(format: "%.4f", metrics.hitRate))"
                        }.sorted()
                            .joined(separator: ", ")
                    } ?? "none"
                    logger.info("\(name): epoch \(report.epoch) in \(String(format: "%.1f", report.seconds)) s", metadata: [
                        "examples_per_second": "\(Int(report.examplesPerSecond))", "learning_rate": "\(report.learningRate)",
                        "validation": "\(validation)",
                    ])
                }
            }
            do {
                return TrainedModel(model: try MultitaskModel(result.model), summary: result.summary)
            } catch {
                throw .model(error)
            }
        }
        // Longest first, so that the lanes finish close together: the multitask models, then
        // the single-task session head (every example), then the domain heads, the domain with
        // the most training events first (each trains on its domain's examples).
        var jobs: [(name: String, configuration: TrainingConfiguration)] = [("multitask", training)]
        for variant in configuration.variants {
            var c = training
            c.model.architecture = variant.architecture
            c.taskWeighting = variant.taskWeighting
            jobs.append(("multitask \(variant.label)", c))
        }
        let domainHeads = domainsByTrainingEvents(dataset: dataset, trainingLength: trainingLength).map { Task.domain($0) }
        var heads: [Task] = []
        switch configuration.singleTaskHeads {
        case .all: heads = [.session] + domainHeads
        case .domains: heads = domainHeads
        case .session: heads = [.session]
        case .none: break
        }
        for head in heads {
            jobs.append(("single-task \(ParameterLayout.taskName(head, domains: dataset.domains))", training.singleTask(head)))
        }
        let lanes = max(1, min(configuration.modelsAtOnce, jobs.count))
        let coresEach = max(1, ProcessInfo.processInfo.activeProcessorCount / lanes)
        if lanes > 1 {
            for j in jobs.indices { jobs[j].configuration.cores = coresEach }
            logger.info("training \(jobs.count) models, \(lanes) at a time on \(coresEach) core\(coresEach == 1 ? "" : "s") each")
        }
        let scheduled = jobs
        let finished = withOneBLASThread {
            Parallel.inLanes(scheduled.count, lanes: lanes) { j in
                Result { () throws(TrainingError) in try trainOne(scheduled[j].name, scheduled[j].configuration) }
            }
        }
        var trained: [TrainedModel] = []
        for result in finished {
            switch result {
            case .success(let model): trained.append(model)
            case .failure(let error): throw error
            // Jobs start in index order and stop only after a failure, which comes first.
            case nil: preconditionFailure("a model not trained without an earlier failure")
            }
        }
        let multitask = trained[0]
        let variants = configuration.variants.enumerated().map { (variant: $1, trained: trained[1 + $0]) }
        var singles: [Task: TrainedModel] = [:]
        for (h, head) in heads.enumerated() { singles[head] = trained[1 + configuration.variants.count + h] }
        var models = Models(multitask: multitask.model, multitaskSummary: multitask.summary, singleTask: singles,
                            rules: SessionRules(configuration: training), trainingSeconds: RankingRun.seconds(since: start))
        models.schedule = (lanes, lanes > 1 ? coresEach : training.concurrentThreads)
        models.variants = variants
        return models
    }

    /// The domains' indices, the one with the most training events first (ties in index order).
    static func domainsByTrainingEvents(dataset: SequenceDataset, trainingLength: [Int]) -> [Int] {
        var events = [Int](repeating: 0, count: dataset.domains.count)
        for u in 0..<dataset.userCount {
            for item in dataset.sequences[u].prefix(trainingLength[u]) { events[dataset.itemDomain[item]] += 1 }
        }
        return events.indices.sorted { (events[$0], $1) > (events[$1], $0) }
    }

    /// The scorers of a set of models for `dataset`: the multitask model's domain heads and
    /// session head, then the single-task baselines' (the domain heads together, each domain
    /// scored by its own model), then each comparison variant's domain and session heads.
    /// A variant's rows count its own training seconds; the others', the whole training.
    public static func scorers(_ models: Models, dataset: SequenceDataset) -> [EvaluatedScorer] {
        let fit = models.trainingSeconds
        var result = [
            EvaluatedScorer(scorer: ModelScorer(name: multitaskDomainHeads, model: models.multitask, head: .domains,
                                                dataset: dataset, rules: models.rules),
                            fitSeconds: fit, ranksAcrossDomains: false),
            EvaluatedScorer(scorer: ModelScorer(name: multitaskSessionHead, model: models.multitask, head: .session,
                                                dataset: dataset, rules: models.rules),
                            fitSeconds: fit, ranksAcrossDomains: true),
        ]
        // What the session head's share is worth in the domain lists: the same model's domain heads alone.
        if models.multitask.domainListBlend.share != 0 {
            var own = models.multitask.contents
            own.domainListSessionShare = 0
            result.append(EvaluatedScorer(scorer: ModelScorer(name: multitaskDomainHeads + ", without the session share",
                                                              model: withContents(own), head: .domains, dataset: dataset,
                                                              rules: models.rules),
                                          fitSeconds: fit, ranksAcrossDomains: false))
        }
        var domainModels: [String: MultitaskModel] = [:]
        for (d, domain) in dataset.domains.enumerated() {
            if let single = models.singleTask[.domain(d)] { domainModels[domain] = single.model }
        }
        if !domainModels.isEmpty {
            result.append(EvaluatedScorer(scorer: ModelScorer(name: singleTaskDomainHeads, domainModels: domainModels,
                                                              dataset: dataset, rules: models.rules),
                                          fitSeconds: fit, ranksAcrossDomains: false))
        }
        if let session = models.singleTask[.session] {
            result.append(EvaluatedScorer(scorer: ModelScorer(name: singleTaskSessionHead, model: session.model, head: .session,
                                                              dataset: dataset, rules: models.rules),
                                          fitSeconds: fit, ranksAcrossDomains: true))
        }
        for (variant, trained) in models.variants {
            result.append(EvaluatedScorer(scorer: ModelScorer(name: variantDomainHeads(variant), model: trained.model, head: .domains,
                                                              dataset: dataset, rules: models.rules),
                                          fitSeconds: trained.summary.seconds, ranksAcrossDomains: false))
            result.append(EvaluatedScorer(scorer: ModelScorer(name: variantSessionHead(variant), model: trained.model, head: .session,
                                                              dataset: dataset, rules: models.rules),
                                          fitSeconds: trained.summary.seconds, ranksAcrossDomains: true))
        }
        return result
    }

    /// The conditions of the training, for a report: the settings, each model's epochs and
    /// the time of one epoch.
    public static func conditions(_ models: Models, configuration: TrainingConfiguration?) -> [String: String] {
        var conditions: [String: String] = [:]
        if let c = configuration {
            let m = c.model
            conditions["model"] = "d \(m.embeddingDimension), encoder \(m.hiddenDimensions), \(label(m.architecture)), "
                + "task weighting \(label(c.taskWeighting)), "
                + "last-item slots \(m.lastItemSlots), context \(m.contextDimension), session encoder "
                + (m.sessionEncoder.map { "\($0.summary), training windows every \(c.attentionWindowStride(for: $0)) items, dropout \(c.dropout)" } ?? "none")
            conditions["training"] = "at most \(c.epochs) epochs, batch \(c.batchSize), lr \(c.learningRate)"
                + (c.learningRateDecayOnPlateau.map { " (× \($0) after each epoch without improvement)" } ?? "") + ", seed \(c.seed), "
                + "\(c.threads) threads, early stopping " + (c.earlyStopping.enabled ? "patience \(c.earlyStopping.patience)" : "off")
                + (c.earlyStopping.metric == .validationLoss ? " on the validation loss" : "")
                + ", validation \(c.validation)"
        } else {
            conditions["model"] = "given model file (version \(models.multitask.configuration.modelVersion)), "
                + "\(models.multitask.catalog.count) items, \(models.multitask.users.count) users"
        }
        conditions["session rules"] = "gap \(models.rules.sessionGapMilliseconds / 1000) s, session ≤ \(models.rules.maxSessionLength) events, "
            + "history ≤ \(models.rules.maxHistoryItems) items; request time = the target's time"
        func describe(_ summary: TrainingSummary) -> String {
            let epochs = summary.epochs
            let mean = epochs.isEmpty ? 0 : epochs.reduce(0) { $0 + $1.seconds } / Double(epochs.count)
            let rate = epochs.isEmpty ? 0 : epochs.reduce(0) { $0 + $1.examplesPerSecond } / Double(epochs.count)
            return "\(epochs.count) epochs (kept \(summary.keptEpoch)), one epoch \(String(format: "%.1f", mean)) s "
                + "(\(Int(rate)) examples/s, \(summary.examplesPerEpoch) examples), run \(String(format: "%.1f", summary.seconds)) s"
        }
        if let summary = models.multitaskSummary {
            conditions["multitask training"] = describe(summary)
        }
        for (task, trained) in models.singleTask {
            conditions["single-task training, \(ParameterLayout.taskName(task, domains: trained.summary.domains))"] = describe(trained.summary)
        }
        for (variant, trained) in models.variants {
            let weights = trained.summary.epochs.first { $0.epoch == trained.summary.keptEpoch }?.taskWeights ?? [:]
            let shown = weights.values.contains { $0 != 1 }
                ? "; kept epoch's task weights " + trained.summary.orderedTasks.compactMap { task in
                    weights[task].map { "\(trained.summary.taskName(task)) \(String(format: "%.3f", $0))" }
                }.joined(separator: ", ")
                : ""
            conditions["multitask training, \(variant.label)"] = describe(trained.summary) + shown
        }
        let model = models.multitask
        let trainsDomainHeads = configuration.map { c in c.model.domains.indices.contains { c.taskWeighting.trains(.domain($0)) } }
        if model.domainListBlend.share != 0 || trainsDomainHeads == true {
            conditions["multitask domain lists"] = "session head's share \(model.domainListBlend.share)"
                + (configuration?.domainListShare == nil ? "" : " (fitted on the validation examples)")
                + (model.contents.sequentialRules.map { ", sequential rules depth \($0.depth), weight \($0.weight), repeat bias \($0.repeatBias)" } ?? "")
        }
        if models.multitaskSummary != nil {
            conditions["training seconds (all models)"] = String(format: "%.1f", models.trainingSeconds)
        }
        if let schedule = models.schedule {
            conditions["models trained at once"] = "\(schedule.modelsAtOnce), on \(schedule.coresEach) core\(schedule.coresEach == 1 ? "" : "s") each"
                + (schedule.modelsAtOnce > 1 ? " (each model's seconds are its own, beside the others)" : "")
        }
        return conditions
    }

    /// A trained model with other contents (another blend or share); its parameters were
    /// checked when it was built.
    static func withContents(_ contents: ModelFileContents) -> MultitaskModel {
        do {
            return try MultitaskModel(contents)
        } catch {
            preconditionFailure("a trained model with another blend is refused: \(error)")
        }
    }

    /// Runs `body` with OpenBLAS at one thread per call: the evaluation already scores on
    /// every core, and OpenBLAS's own threads would compete with it.
    static func withOneBLASThread<T>(_ body: () throws -> T) rethrows -> T {
        let previous = BLASThreads.count
        BLASThreads.set(1)
        defer { BLASThreads.set(previous) }
        return try body()
    }
}

/// Why an evaluation with models could not run.
public enum EvaluationError: Error, CustomStringConvertible {
    /// The data could not be read.
    case data(DataFileError)
    /// Training failed.
    case training(TrainingError)

    public var description: String {
        switch self {
        case .data(let error): return "cannot read the data: \(error)"
        case .training(let error): return "cannot train: \(error)"
        }
    }
}
