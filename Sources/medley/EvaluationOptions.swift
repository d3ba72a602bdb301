import ArgumentParser
import Foundation
import MedleyEvaluation
import MedleyModel
import MedleyTraining

/// The training and report options every `medley eval` mode takes.
struct EvaluationOptions: ParsableArguments {
    /// One validation target per user is a noisy signal on small data sets (939 users on
    /// MovieLens-100K): one epoch more than the trainer's default patience keeps a lucky
    /// epoch from ending training.
    static let defaultPatience = EarlyStopping().patience + 1
    /// The evaluations halve the learning rate after each epoch without improvement: on
    /// MovieLens-1M it gains at both seeds tried, on MovieLens-100K it is neutral
    /// (docs/results-ml1m.md, docs/results-ml100k.md).
    static let defaultLearningRateDecay: Float = 0.5

    @Option(help: "Training epochs at most (early stopping may end sooner).")
    var epochs: Int = TrainingConfiguration().epochs

    @Option(help: "Item and user embedding dimension (default: \(EvaluatePublishedCommand.defaultDimension) for `eval published`, as the published sequential models use; \(ModelConfiguration().embeddingDimension) otherwise).")
    var dimension: Int?

    @Option(help: "Width of the shared encoder's hidden layer (default: \(EvaluatePublishedCommand.defaultHidden) for `eval published`, which trains the session head alone; \(Self.defaultHidden) otherwise, room for every head).")
    var hidden: Int?

    /// The encoder width of a model that trains every head: at 64 the five heads share too
    /// narrow a representation (docs/results-ml1m.md, "Multitask at the current defaults").
    static let defaultHidden = 256

    @Option(help: "The multitask model's shared encoder: \(MultitaskOptionParsing.architectureHelp).")
    var architecture: String = "mlp"

    @Option(help: "The multitask model's task weighting: \(MultitaskOptionParsing.taskWeightingHelp).")
    var taskWeighting: String = "gradnorm"

    @Option(help: "Examples per optimiser step.")
    var batchSize: Int = TrainingConfiguration().batchSize

    @Option(help: "Adam's learning rate.")
    var learningRate: Float = TrainingConfiguration().learningRate

    @OptionGroup var learningRateDecay: LearningRateDecayOption
    @OptionGroup var earlyStoppingMetric: EarlyStoppingMetricOption

    @Option(help: "Epochs without a better validation metric (--early-stopping-metric) before training stops.")
    var patience: Int = EvaluationOptions.defaultPatience

    @Option(help: "The training seed.")
    var seed: UInt64 = TrainingConfiguration().seed

    @Option(help: "Training threads.")
    var threads: Int = TrainingConfiguration().threads

    @Option(help: "Models trained at the same time, the cores shared among them (the models do not depend on it). Default: one per core.")
    var modelsAtOnce: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var sessionEncoder: SessionEncoderOptions

    @Option(help: "The losses trained: all (every head, weighted by --task-weighting) or session (the session head alone). Default: session for `eval published`, which evaluates only the session head; all otherwise.")
    var tasks: TrainedTasks?

    @Option(help: "Write the JSON report to this file.")
    var json: String?

    /// Checks the values the trainer would refuse, and that the report can be written.
    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard (dimension ?? 1) >= 1, (hidden ?? 1) >= 1 else { throw ValidationError("--dimension and --hidden must be positive") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard learningRate.isFinite, learningRate > 0 else { throw ValidationError("--learning-rate must be positive") }
        guard patience >= 1 else { throw ValidationError("--patience must be at least 1") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
        guard modelsAtOnce >= 1 else { throw ValidationError("--models-at-once must be at least 1") }
        _ = try MultitaskOptionParsing.architecture(architecture)
        _ = try MultitaskOptionParsing.taskWeighting(taskWeighting)
        if let json {
            let directory = URL(fileURLWithPath: json).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("cannot write --json \(json): no directory \(directory)")
            }
        }
    }

    /// The trainer's configuration from these options (the rest at their documented defaults).
    /// The evaluations train the attention session encoder unless `--session-encoder none`;
    /// `validate()` has checked the architecture and task weighting.
    var trainingConfiguration: TrainingConfiguration {
        get throws { try trainingConfiguration(defaultTasks: .all) }
    }

    /// The same, with the losses trained when `--tasks` is not given, and the embedding
    /// dimension and encoder width when `--dimension` and `--hidden` are not given.
    func trainingConfiguration(
        defaultTasks: TrainedTasks, defaultDimension: Int = ModelConfiguration().embeddingDimension,
        defaultHidden: Int = Self.defaultHidden
    ) throws -> TrainingConfiguration {
        var model = ModelConfiguration()
        model.embeddingDimension = dimension ?? defaultDimension
        model.hiddenDimensions = [hidden ?? defaultHidden]
        model.sessionEncoder = try sessionEncoder.shape(default: SessionEncoderShape())
        model.architecture = (try? MultitaskOptionParsing.architecture(architecture)) ?? model.architecture
        let allHeads = (try? MultitaskOptionParsing.taskWeighting(taskWeighting)) ?? .equal
        var configuration = TrainingConfiguration(
            model: model, epochs: epochs, batchSize: batchSize, learningRate: learningRate,
            dropout: sessionEncoder.dropout, taskWeighting: (tasks ?? defaultTasks).weighting(allHeads: allHeads),
            earlyStopping: EarlyStopping(metric: try earlyStoppingMetric.metric, patience: patience), seed: seed, threads: threads)
        configuration.sequentialRules = sessionEncoder.rulesBlend
        configuration.domainListShare = sessionEncoder.domainListShareFit
        configuration.attentionWindowStride = sessionEncoder.attentionWindowStride
        configuration.learningRateDecayOnPlateau = learningRateDecay.onPlateau(default: Self.defaultLearningRateDecay)
        return configuration
    }

    /// Prints the table and writes the JSON report when asked.
    func output(_ report: EvaluationReport) throws {
        print(report.table(), terminator: "")
        if let json {
            try report.json().write(to: URL(fileURLWithPath: json), options: .atomic)
            print("JSON report: \(json)")
        }
    }
}

/// Which losses the evaluated model trains, as an option value.
enum TrainedTasks: String, ExpressibleByArgument, CaseIterable {
    case all
    case session

    /// The weighting: `allHeads` (the `--task-weighting`) for every head, or the session head alone.
    func weighting(allHeads: TaskWeighting) -> TaskWeighting {
        switch self {
        case .all: return allHeads
        case .session: return .only(.session)
        }
    }
}

/// Which single-task baselines to train, as an option value.
extension ModelEvaluation.Configuration.SingleTaskHeads: ExpressibleByArgument {}

/// Splits a data-set folder such as `data/ml-1m` into the parent and the data set's name, as
/// the MovieLens loaders take them.
func movieLensLocation(_ path: String) -> (directory: String, name: String) {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    return (url.deletingLastPathComponent().path, url.lastPathComponent)
}
