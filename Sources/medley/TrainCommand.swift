import ArgumentParser
import Foundation
import Logging
import MedleyEventLog
import MedleyModel
import MedleyModelDistribution
import MedleyProtocol
import MedleyTraining
import MedleySystem

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the multitask model from the event log and write a model file.",
        discussion: """
            Reads the events of one or more event-log directories (written by `medley serve`, \
            `medley import` or `medley gen`), trains the shared encoder, the domain heads, the \
            session head and the next-domain classifier on each user's chronological stream \
            (docs/training.md), and writes the model atomically to \
            <models-dir>/<version>.safetensors. The same events, options and seed give a \
            bit-identical model. With --publish, each model is also published to serving \
            processes (`medley serve --subscribe`). With --follow, the trainer keeps reading \
            the logs as the server writes them and, every --every-events new events or \
            --every-seconds, fine-tunes the current model on everything logged (new users and \
            items included) and writes and publishes the next version, until SIGTERM or SIGINT.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var publishing: PublishOptions

    @Option(name: .customLong("log"), help: "An event-log directory to learn from; repeat for several.")
    var logs: [String]

    @Option(help: "Where model files go.")
    var modelsDir: String = "models"

    @Option(help: "The model version; default one more than the newest in --models-dir.")
    var version: UInt64?

    @Option(help: "Also copy the trained model to this path (atomically), e.g. models/default.safetensors.")
    var alsoWrite: String?

    @Option(help: "Domains, in the model's order, comma-separated.") var domains: String = "news,video,music"
    @Option(help: "Embedding dimension.") var dimension: Int = 32
    @Option(help: "Widths of the shared encoder's layers, comma-separated.") var hidden: String = String(EvaluationOptions.defaultHidden)
    @Option(help: "Shared encoder: \(MultitaskOptionParsing.architectureHelp).") var architecture: String = "mlp"
    @Option(help: "Task weighting: \(MultitaskOptionParsing.taskWeightingHelp).") var taskWeighting: String = "gradnorm"
    @OptionGroup var sessionEncoder: SessionEncoderOptions
    @OptionGroup var learningRateDecay: LearningRateDecayOption
    @OptionGroup var earlyStoppingMetric: EarlyStoppingMetricOption
    @Option(help: "Most epochs (early stopping may end sooner).") var epochs: Int = 20
    @Option(help: "Examples per mini-batch.") var batchSize: Int = 256
    @Option(help: "Adam's learning rate.") var learningRate: Float = 0.002
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Threads.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Keep following the logs and publish a fine-tuned model as events arrive.")
    var follow = false
    @Option(help: "With --follow: fine-tune after this many new events.") var everyEvents: Int = 1000
    @Option(help: "With --follow: fine-tune after this many seconds if any event arrived.") var everySeconds: Int = 60
    @Option(help: "With --follow: epochs of each fine-tuning.") var followEpochs: Int = 2

    /// `--domains` as a list.
    var domainList: [String] { domains.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

    func validate() throws {
        guard !logs.isEmpty else { throw ValidationError("give at least one --log directory") }
        if let bad = domainList.first(where: { $0.wholeMatch(of: /[a-z][a-z0-9_]*/) == nil }) {
            throw ValidationError("--domains: \"\(bad)\" is not a domain name ([a-z][a-z0-9_]*); give a comma-separated list such as news,video,music")
        }
        for log in logs where !FileManager.default.fileExists(atPath: log) {
            throw ValidationError("no event log at \(log)")
        }
        guard everyEvents > 0, everySeconds > 0, followEpochs > 0 else {
            throw ValidationError("--every-events, --every-seconds and --follow-epochs must be positive")
        }
        guard dimension > 0, epochs > 0, batchSize > 0, learningRate > 0, threads > 0 else {
            throw ValidationError("--dimension, --epochs, --batch-size, --learning-rate and --threads must be positive")
        }
        _ = try parsedHidden()
        _ = try parsedArchitecture()
        _ = try parsedTaskWeighting()
    }

    func parsedHidden() throws -> [Int] {
        let widths = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--hidden takes positive widths separated by commas, e.g. 64 or 128,64")
        }
        return widths.map { $0! }
    }

    func parsedArchitecture() throws -> ModelConfiguration.Architecture {
        try MultitaskOptionParsing.architecture(architecture)
    }

    func parsedTaskWeighting() throws -> TaskWeighting {
        try MultitaskOptionParsing.taskWeighting(taskWeighting)
    }

    /// One more than the newest `<version>.safetensors` in the models directory.
    func nextVersion() -> UInt64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modelsDir)) ?? []
        return (names.compactMap(ModelFileName.version(of:)).max() ?? 0) + 1
    }

    func run() throws {
        global.bootstrapLogging()
        let logger = Logger(label: "medley.train")
        var version = version ?? nextVersion()
        var configuration = try trainingConfiguration(version: version)
        let publisher = try publishing.makePublisher(logger: logger)
        defer { publisher?.close() }
        let signingKey = try publishing.signingKey()

        let readers = logs.map { EventLogReader(directory: $0) }
        var events = try EventLogImport.readNew(from: readers)
        var model = try trainAndWrite(events: events, version: version, configuration: configuration, previous: nil, publisher: publisher, signingKey: signingKey)
        guard follow else { return }

        // Following: fine-tune from the current model, on everything logged so far.
        configuration.epochs = followEpochs
        let stop = StopSignal()
        stop.triggerOnTerminationSignals()
        let clock = ContinuousClock()
        var lastTrained = clock.now
        var pending = 0
        logger.notice("following \(logs.joined(separator: ", ")) for new events")
        while !stop.wait(milliseconds: 1000) {
            let arrived = try EventLogImport.readNew(from: readers)
            events += arrived
            pending += arrived.count
            let due = pending >= everyEvents || (pending > 0 && lastTrained.duration(to: clock.now) >= .seconds(everySeconds))
            guard due else { continue }
            version += 1
            model = try trainAndWrite(events: events, version: version, configuration: configuration, previous: model, publisher: publisher, signingKey: signingKey)
            pending = 0
            lastTrained = clock.now
        }
        logger.notice("stopped following")
    }

    func trainingConfiguration(version: UInt64) throws -> TrainingConfiguration {
        var configuration = TrainingConfiguration(
            model: ModelConfiguration(
                modelVersion: version, domains: domainList, embeddingDimension: dimension,
                hiddenDimensions: try parsedHidden(), architecture: try parsedArchitecture(),
                sessionEncoder: try sessionEncoder.shape(default: nil)),
            epochs: epochs, batchSize: batchSize, learningRate: learningRate, dropout: sessionEncoder.dropout,
            taskWeighting: try parsedTaskWeighting(), seed: seed, threads: threads)
        configuration.progressIntervalSeconds = 10
        configuration.sequentialRules = sessionEncoder.rulesBlend
        configuration.domainListShare = sessionEncoder.domainListShareFit
        configuration.attentionWindowStride = sessionEncoder.attentionWindowStride
        configuration.learningRateDecayOnPlateau = learningRateDecay.onPlateau(default: nil)
        configuration.earlyStopping.metric = try earlyStoppingMetric.metric
        try configuration.validate()
        return configuration
    }

    /// Trains one version, writes it to the models directory (and --also-write), publishes
    /// it, and returns it.
    func trainAndWrite(
        events: [Medley_V1_SessionEvent], version: UInt64, configuration: TrainingConfiguration,
        previous: ModelFileContents?, publisher: ModelPublisher?, signingKey: ModelSigningKey?
    ) throws -> ModelFileContents {
        let data = try TrainingData(events: events, configuration: configuration)
        let result = try Trainer(configuration: configuration).train(data, modelVersion: version, continuingFrom: previous) { progress in
            TrainingProgressPrinter.print(progress, domains: domainList)
        }
        try FileManager.default.createDirectory(atPath: modelsDir, withIntermediateDirectories: true)
        let destination = URL(fileURLWithPath: ModelFileName.path(version: version, in: modelsDir))
        let bytes = ModelFile.encode(result.model)
        for path in [destination.path] + (alsoWrite.map { [$0] } ?? []) {
            // The signature first: a server watching the directory takes the file as it appears.
            if let signingKey {
                try ModelSignatureFile.write(signing: bytes, version: version, with: signingKey, forModelAt: path)
            }
            try ModelFile.writeBytes(bytes, to: URL(fileURLWithPath: path))
        }
        print(result.summary)
        print("wrote \(destination.path)" + (alsoWrite.map { " and \($0)" } ?? ""))
        if let publisher {
            _ = try publisher.publish(result.model)
            print("published version \(version)")
        }
        return result.model
    }
}
