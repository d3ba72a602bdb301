import ArgumentParser
import Foundation
import Logging
import MedleyModel
import MedleyModelDistribution
import MedleyService
import ZeroMQ
import MedleySystem

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one serving worker as a separate process, connected to a broker.",
        discussion: """
            The same worker code that `medley serve` runs on its own threads, reaching the broker \
            only through ZeroMQ: `medley worker --connect tcp://HOST:PORT` adds capacity on \
            another process or host (start the server with `--worker-bind tcp://HOST:PORT`). \
            The broker moves users to the new worker and replays their recent events to it, and \
            sends it the model the server serves, at once and after every swap: the worker \
            verifies it (with --trainer-key, its signature too), warms it up and swaps it in while \
            it goes on answering (protocol/README.md, "Model sync"). --model is what it serves \
            until then. SIGTERM or SIGINT stops the worker; the broker moves its users back.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The broker's worker endpoint.")
    var connect: String

    @Option(help: "The model file to serve until the broker sends the server's.")
    var model: String = "models/default.safetensors"

    @Option(help: "A name for logs and stats.")
    var name: String = "remote-\(ProcessInfo.processInfo.processIdentifier)"

    @OptionGroup(title: "Scoring") var scoring: ScoringOptions

    @Option(help: "Most recommend requests scored in one batch.")
    var maxBatch: Int = 32

    @Option(help: "Microseconds the worker keeps polling for the next request, without sleeping, after it answered a batch (0: sleep at once; BENCHMARKS.md).")
    var busyPollMicroseconds: Int = 0

    @Option(help: "Milliseconds between heartbeats; must match the server's.")
    var heartbeatMilliseconds: Int = 1000

    @OptionGroup(title: "CURVE (docs/deployment.md)") var curve: CurveClientOptions

    @OptionGroup(title: "Protocol limits (protocol/README.md)") var protocolLimits: ProtocolLimitOptions

    @Option(help: "The trainer's public key file: models the broker sends must carry its signature.")
    var trainerKey: String?

    @Option(help: "Models larger than this many bytes are refused.")
    var maxModelBytes: Int = ModelUpdateConfiguration().maxModelBytes

    func validate() throws {
        guard maxBatch > 0, heartbeatMilliseconds > 0, maxModelBytes > 0 else {
            throw ValidationError("--max-batch, --heartbeat-milliseconds and --max-model-bytes must be positive")
        }
        guard (0...1_000_000).contains(busyPollMicroseconds) else {
            throw ValidationError("--busy-poll-microseconds must be between 0 and 1000000")
        }
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("no model file at \(model)") }
    }

    func run() throws {
        global.bootstrapLogging()
        let logger = Logger(label: "medley.worker")
        let loaded = try loadServingModel(model, itemPrecision: scoring.itemPrecision, index: scoring.itemIndex)
        BLASThreads.set(1)
        let context = try Context()
        var settings = WorkerConfiguration(brokerEndpoint: connect, name: name)
        settings.maxBatchSize = maxBatch
        settings.busyPollMicroseconds = busyPollMicroseconds
        settings.heartbeatIntervalMilliseconds = heartbeatMilliseconds
        settings.curve = try curve.role()
        settings.protocolLimits = protocolLimits.limits
        var updates = ModelUpdateConfiguration()
        updates.maxModelBytes = maxModelBytes
        scoring.apply(to: &updates)
        do {
            updates.trainerKey = try trainerKey.map(ModelVerificationKey.init(contentsOfFile:))
        } catch {
            throw ValidationError("\(error)")
        }
        let models = ServingModel(loaded)
        let installer = ModelInstaller(models: models, configuration: updates, modelDirectory: nil, logger: logger)
        let worker = ServingWorker(context: context, models: models, configuration: settings, logger: logger, installer: installer)

        let stop = StopSignal()
        stop.triggerOnTerminationSignals()
        logger.notice("worker connecting", metadata: ["endpoint": "\(connect)", "model": "\(loaded.configuration.modelVersion)",
                                                      "itemTable": "\(loaded.itemPrecision)", "index": "\(loaded.index)",
                                                      "vectorKernel": "\(VectorKernel.best.rawValue)"])
        try worker.run(until: stop.fileDescriptor)
        try context.terminate()
    }
}
