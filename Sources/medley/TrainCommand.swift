import ArgumentParser
import Foundation
import MedleyModel
import MedleyTraining

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
            bit-identical model.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("log"), help: "An event-log directory to learn from; repeat for several.")
    var logs: [String]

    @Option(help: "Where model files go.")
    var modelsDir: String = "models"

    @Option(help: "The model version; default one more than the newest in --models-dir.")
    var version: UInt64?

    @Option(help: "Also copy the trained model to this path (atomically), e.g. models/default.safetensors.")
    var alsoWrite: String?

    @Option(help: "Domains, in the model's order.") var domains: [String] = ["news", "video", "music"]
    @Option(help: "Embedding dimension.") var dimension: Int = 32
    @Option(help: "Widths of the shared encoder's layers, comma-separated.") var hidden: String = "64"
    @Option(help: "Shared encoder: mlp, or mmoe:EXPERTS.") var architecture: String = "mlp"
    @Option(help: "Task weighting: equal or uncertainty.") var taskWeighting: String = "equal"
    @Option(help: "Most epochs (early stopping may end sooner).") var epochs: Int = 20
    @Option(help: "Examples per mini-batch.") var batchSize: Int = 256
    @Option(help: "Adam's learning rate.") var learningRate: Float = 0.002
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Threads.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard !logs.isEmpty else { throw ValidationError("give at least one --log directory") }
        for log in logs where !FileManager.default.fileExists(atPath: log) {
            throw ValidationError("no event log at \(log)")
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
        if architecture == "mlp" { return .mlp }
        if architecture.hasPrefix("mmoe:"), let experts = Int(architecture.dropFirst(5)), experts > 0 { return .mmoe(experts: experts) }
        throw ValidationError("--architecture is mlp or mmoe:EXPERTS (e.g. mmoe:4)")
    }

    func parsedTaskWeighting() throws -> TaskWeighting {
        switch taskWeighting {
        case "equal": return .equal
        case "uncertainty": return .uncertainty
        default: throw ValidationError("--task-weighting is equal or uncertainty")
        }
    }

    /// One more than the newest `<version>.safetensors` in the models directory.
    func nextVersion() -> UInt64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modelsDir)) ?? []
        let versions = names.compactMap { name -> UInt64? in
            guard name.hasSuffix(".safetensors") else { return nil }
            return UInt64(name.dropLast(".safetensors".count))
        }
        return (versions.max() ?? 0) + 1
    }

    func run() throws {
        global.bootstrapLogging()
        let modelVersion = version ?? nextVersion()
        var configuration = TrainingConfiguration(
            model: ModelConfiguration(
                modelVersion: modelVersion, domains: domains, embeddingDimension: dimension,
                hiddenDimensions: try parsedHidden(), architecture: try parsedArchitecture()),
            epochs: epochs, batchSize: batchSize, learningRate: learningRate,
            taskWeighting: try parsedTaskWeighting(), seed: seed, threads: threads)
        configuration.progressIntervalSeconds = 10
        try configuration.validate()

        let events = try EventLogImport.readEvents(from: logs)
        let data = try TrainingData(events: events, configuration: configuration)
        let result = try Trainer(configuration: configuration).train(data, modelVersion: modelVersion) { progress in
            TrainingProgressPrinter.print(progress, domains: domains)
        }
        try FileManager.default.createDirectory(atPath: modelsDir, withIntermediateDirectories: true)
        let destination = URL(fileURLWithPath: modelsDir).appendingPathComponent("\(modelVersion).safetensors")
        try result.write(to: destination)
        if let alsoWrite {
            try result.write(to: URL(fileURLWithPath: alsoWrite))
        }
        print(result.summary)
        print("wrote \(destination.path)" + (alsoWrite.map { " and \($0)" } ?? ""))
    }
}
