import ArgumentParser
import MedleyModelDistribution

/// `medley serve`'s options for taking new models while it runs.
struct ModelUpdateOptions: ParsableArguments {
    @Option(name: .customLong("subscribe"), help: "The trainer's publication endpoint to subscribe to, e.g. tcp://trainer:5560.")
    var publicationEndpoint: String?

    @Option(name: .customLong("snapshot"), help: "The trainer's snapshot endpoint, for the current model at start and after a missed publication.")
    var snapshotEndpoint: String?

    @Option(help: "The trainer's public key file: publications must carry its signature.")
    var trainerKey: String?

    @Flag(help: "Load <model-dir>/<version>.safetensors files newer than the serving model as they appear.")
    var watchModelDir = false

    @Option(help: "Models larger than this many bytes are refused.")
    var maxModelBytes: Int = ModelUpdateConfiguration().maxModelBytes

    func validate() throws {
        if publicationEndpoint == nil && (snapshotEndpoint != nil || trainerKey != nil) {
            throw ValidationError("--snapshot and --trainer-key need --subscribe")
        }
        guard maxModelBytes > 0 else { throw ValidationError("--max-model-bytes must be positive") }
    }

    func configuration() throws -> ModelUpdateConfiguration {
        var configuration = ModelUpdateConfiguration()
        configuration.subscription = publicationEndpoint.map {
            ModelUpdateConfiguration.Subscription(publicationEndpoint: $0, snapshotEndpoint: snapshotEndpoint)
        }
        do {
            configuration.trainerKey = try trainerKey.map(ModelVerificationKey.init(contentsOfFile:))
        } catch {
            throw ValidationError("\(error)")
        }
        configuration.watchModelDirectory = watchModelDir
        configuration.maxModelBytes = maxModelBytes
        return configuration
    }
}
