import ArgumentParser
import Logging
import MedleyModelDistribution
import MedleySecurity

/// Where a command that publishes models (`medley publish`, `medley train --publish`) binds
/// its sockets and which key signs.
struct PublishOptions: ParsableArguments {
    @Option(name: .customLong("publish"), help: "Publication (PUB) endpoint to bind, e.g. tcp://127.0.0.1:5560.")
    var publicationEndpoint: String?

    @Option(name: .customLong("snapshot"), help: "Snapshot (ROUTER) endpoint to bind for servers that start late, e.g. tcp://127.0.0.1:5561.")
    var snapshotEndpoint: String?

    @Option(name: .customLong("key"), help: "Secret key file that signs every publication and written model file (<file>.sig; made by `medley keygen`).")
    var keyFile: String?

    @Option(help: "This trainer's CURVE secret key file: the publication and snapshot sockets require CURVE.")
    var curveSecret: String?

    @Option(help: "With --curve-secret: the directory of CURVE public keys (*.pub) of the servers allowed to subscribe; re-read when it changes.")
    var allowClients: String?

    func validate() throws {
        if publicationEndpoint == nil && (snapshotEndpoint != nil || curveSecret != nil) {
            throw ValidationError("--snapshot and --curve-secret need --publish")
        }
        guard (curveSecret == nil) == (allowClients == nil) else {
            throw ValidationError("--curve-secret and --allow-clients go together")
        }
    }

    /// The key of `--key`, read; nil without it.
    func signingKey() throws -> ModelSigningKey? {
        do {
            return try keyFile.map(ModelSigningKey.init(contentsOfFile:))
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The publisher these options describe, bound; nil without `--publish`.
    func makePublisher(logger: Logger) throws -> ModelPublisher? {
        guard let publicationEndpoint else { return nil }
        let key = try signingKey()
        var configuration = ModelPublisherConfiguration(publicationEndpoint: publicationEndpoint, snapshotEndpoint: snapshotEndpoint, signingKey: key)
        if let curveSecret, let allowClients {
            configuration.curve = try curveServerSecurity(secretFile: curveSecret, allowed: [CurveServerSecurity.subscriberDomain: allowClients])
        }
        return try ModelPublisher(configuration: configuration, logger: logger)
    }
}
