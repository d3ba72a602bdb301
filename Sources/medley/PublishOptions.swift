import ArgumentParser
import Logging
import MedleyService

/// Where a command that publishes models (`medley publish`, `medley train --publish`) binds
/// its sockets and which key signs.
struct PublishOptions: ParsableArguments {
    @Option(name: .customLong("publish"), help: "Publication (PUB) endpoint to bind, e.g. tcp://127.0.0.1:5560.")
    var publicationEndpoint: String?

    @Option(name: .customLong("snapshot"), help: "Snapshot (ROUTER) endpoint to bind for servers that start late, e.g. tcp://127.0.0.1:5561.")
    var snapshotEndpoint: String?

    @Option(name: .customLong("key"), help: "Secret key file that signs every publication (made by `medley keygen`).")
    var keyFile: String?

    func validate() throws {
        if publicationEndpoint == nil && (snapshotEndpoint != nil || keyFile != nil) {
            throw ValidationError("--snapshot and --key need --publish")
        }
    }

    /// The publisher these options describe, bound; nil without `--publish`.
    func makePublisher(logger: Logger) throws -> ModelPublisher? {
        guard let publicationEndpoint else { return nil }
        let key: ModelSigningKey?
        do {
            key = try keyFile.map(ModelSigningKey.init(contentsOfFile:))
        } catch {
            throw ValidationError("\(error)")
        }
        let configuration = ModelPublisherConfiguration(publicationEndpoint: publicationEndpoint, snapshotEndpoint: snapshotEndpoint, signingKey: key)
        return try ModelPublisher(configuration: configuration, logger: logger)
    }
}
