import Foundation
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyModelDistribution
@testable import MedleyService

@Suite("bad publications are refused while the service keeps serving", .serialized)
struct ModelRejectionTests {
    /// One bad publication and the words its refusal must contain.
    struct Case {
        let name: String
        let publication: ModelPublication
        let reason: String
    }

    static func badPublications(trainer: ModelSigningKey, serving: UInt64, maxModelBytes: Int) throws -> [Case] {
        let next = serving + 1
        let good = try HotReloadFixtures.contents(version: next)
        let goodBytes = ModelFile.encode(good)
        func signed(_ contents: ModelFileContents, _ bytes: [UInt8]) -> ModelPublication {
            HotReloadFixtures.publication(of: contents, bytes: bytes, signedWith: trainer)
        }
        var cases: [Case] = []

        var flipped = signed(good, goodBytes)
        flipped.modelBytes[goodBytes.count / 2] ^= 0xff
        cases.append(Case(name: "bytes changed after signing", publication: flipped, reason: "SHA-256 mismatch"))

        var resized = signed(good, goodBytes)
        resized.announcement.sizeBytes += 1
        cases.append(Case(name: "announced size wrong", publication: resized, reason: "size mismatch"))

        var garbage = goodBytes
        for index in stride(from: 8, to: garbage.count, by: 7) { garbage[index] = UInt8(truncatingIfNeeded: index) }
        cases.append(Case(name: "corrupt file, correctly signed", publication: signed(good, garbage), reason: "invalid model file"))

        let truncated = Array(goodBytes.prefix(goodBytes.count * 2 / 3))
        cases.append(Case(name: "truncated file, correctly signed", publication: signed(good, truncated), reason: "invalid model file"))

        var withNaN = good
        withNaN.parameters.tensors[ParameterLayout.itemEmbedding]!.scalars[3] = .nan
        cases.append(Case(name: "NaN weights", publication: signed(withNaN, ModelFile.encode(withNaN)), reason: "invalid model file"))

        // Finite weights whose sums overflow: every reply would score NaN.
        var overflowing = good
        overflowing.parameters.tensors["encoder.layers.0.bias"]!.scalars = overflowing.parameters["encoder.layers.0.bias"].scalars.map { _ in 3e38 }
        cases.append(Case(name: "finite bias that overflows the next layer",
                          publication: signed(overflowing, ModelFile.encode(overflowing)), reason: "weights too large to serve"))

        // One user row out of range: only that user's replies would break.
        var oneUser = try HotReloadFixtures.contents(version: next, users: ["u1", "u2", "u3"])
        let d = oneUser.configuration.embeddingDimension
        for k in 0..<d { oneUser.parameters.tensors[ParameterLayout.userEmbedding]!.scalars[2 * d + k] = 3e38 }
        cases.append(Case(name: "one user's row overflows", publication: signed(oneUser, ModelFile.encode(oneUser)), reason: "weights too large to serve"))

        var otherContext = good
        otherContext.configuration.contextDimension = 0
        otherContext = try ModelFileContents.initialized(configuration: otherContext.configuration, catalog: good.catalog, users: good.users, seed: next)
        cases.append(Case(name: "context_dim the service does not build",
                          publication: signed(otherContext, ModelFile.encode(otherContext)), reason: "context_dim is 0"))

        cases.append(Case(name: "mis-shaped tensor", publication: signed(good, try misShaped(good)), reason: "invalid model file"))

        let twoDomains = try HotReloadFixtures.contents(version: next, domains: ["news", "video"])
        cases.append(Case(name: "missing domain", publication: signed(twoDomains, ModelFile.encode(twoDomains)), reason: "does not serve music"))

        let stranger = ModelSigningKey()
        cases.append(Case(name: "signed by another key",
                          publication: HotReloadFixtures.publication(of: good, bytes: goodBytes, signedWith: stranger), reason: "signature"))

        cases.append(Case(name: "unsigned",
                          publication: HotReloadFixtures.publication(of: good, bytes: goodBytes, signedWith: nil), reason: "unsigned"))

        let older = try HotReloadFixtures.contents(version: serving - 1)
        cases.append(Case(name: "older version", publication: signed(older, ModelFile.encode(older)), reason: "older than version \(serving)"))

        // A signed old file announced under a new version.
        let replayed = try HotReloadFixtures.contents(version: serving - 1)
        var relabelled = signed(replayed, ModelFile.encode(replayed))
        relabelled.announcement.version = next
        relabelled.announcement.signature = Data(trainer.signature(version: next, sha256: Array(relabelled.announcement.sha256)))
        cases.append(Case(name: "old file under a new version", publication: relabelled, reason: "the file says"))

        let big = try HotReloadFixtures.contents(version: next, itemsPerDomain: 2000)
        let bigBytes = ModelFile.encode(big)
        precondition(bigBytes.count > maxModelBytes)
        cases.append(Case(name: "over the size limit", publication: signed(big, bigBytes), reason: "the limit is \(maxModelBytes)"))
        return cases
    }

    /// A well-formed safetensors file whose item bias has one row too few.
    static func misShaped(_ contents: ModelFileContents) throws -> [UInt8] {
        let bytes = ModelFile.encode(contents)
        let metadata = try bytes.withUnsafeBytes { try SafeTensors.readHeader($0).metadata }
        let tensors = contents.layout.entries.map { entry -> (name: String, tensor: Tensor) in
            var tensor = contents.parameters[entry.name]
            if entry.name == ParameterLayout.itemBias {
                tensor = Tensor(shape: [tensor.shape[0] - 1], scalars: Array(tensor.scalars.dropLast()))
            }
            return (entry.name, tensor)
        }
        return SafeTensors.encode(tensors: tensors, metadata: metadata)
    }

    @Test func eachKindOfBadPublicationIsRefusedAndCounted() throws {
        let trainer = ModelSigningKey()
        let publisher = try HotReloadFixtures.publisher(signingKey: trainer)
        defer { publisher.close() }
        let maxModelBytes = ModelFile.encode(try HotReloadFixtures.contents(version: 1)).count * 3
        let server = try HotReloadFixtures.server(model: try ServiceFixtures.model(version: 1), subscribedTo: publisher,
                                                  trainerKey: trainer.verificationKey) { $0.modelUpdates.maxModelBytes = maxModelBytes }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        try publisher.publish(try HotReloadFixtures.contents(version: 2))
        #expect(try within { try client.health().modelVersion == 2 })

        let cases = try Self.badPublications(trainer: trainer, serving: 2, maxModelBytes: maxModelBytes)
        for (index, bad) in cases.enumerated() {
            try publisher.publish(bad.publication)
            #expect(try within { try client.stats().modelsRejected == UInt64(index + 1) }, "\(bad.name) was not refused")
            let stats = try client.stats()
            #expect(stats.lastModelRejection.contains(bad.reason), "\(bad.name): \(stats.lastModelRejection)")
            let health = try client.health()
            #expect(health.status == .degraded, "\(bad.name)")
            #expect(health.detail.contains(bad.reason), "\(bad.name): \(health.detail)")
            // Still serving, with the good model.
            #expect(try client.recommend(HotReloadFixtures.recommendRequest(user: "steady")).modelVersion == 2, "\(bad.name)")
        }

        // A good model clears the degraded state.
        try publisher.publish(try HotReloadFixtures.contents(version: 3))
        #expect(try within { try client.health().status == .serving })
        let stats = try client.stats()
        #expect(stats.modelVersion == 3)
        #expect(stats.modelsRejected == UInt64(cases.count))
        #expect(stats.modelsInstalled == 2)
    }

    @Test func withoutATrainerKeyUnsignedModelsAreAccepted() throws {
        let publisher = try HotReloadFixtures.publisher()
        defer { publisher.close() }
        let server = try HotReloadFixtures.server(model: try ServiceFixtures.model(version: 1), subscribedTo: publisher)
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try publisher.publish(try HotReloadFixtures.contents(version: 2))
        #expect(try within { try client.health().modelVersion == 2 })
        #expect(try client.stats().modelsRejected == 0)
    }

    @Test func theVerifierChecksInTheProtocolsOrder() throws {
        // Bytes that fail every check at once are refused for the first: size.
        let trainer = ModelSigningKey()
        var configuration = ModelUpdateConfiguration()
        configuration.trainerKey = trainer.verificationKey
        configuration.maxModelBytes = 100
        let verifier = ModelVerifier(configuration: configuration)
        let contents = try HotReloadFixtures.contents(version: 1)
        var publication = HotReloadFixtures.publication(of: contents, bytes: ModelFile.encode(contents), signedWith: nil)
        publication.modelBytes[200] ^= 1
        #expect(throws: ModelRejection.tooLarge(bytes: UInt64(publication.modelBytes.count), limit: 100)) {
            try verifier.verify(publication, serving: nil)
        }
        configuration.maxModelBytes = 1 << 20
        #expect {
            try ModelVerifier(configuration: configuration).verify(publication, serving: nil)
        } throws: { error in
            if case .hashMismatch = error as? ModelRejection { return true }
            return false
        }
        publication.modelBytes[200] ^= 1
        #expect(throws: ModelRejection.unsigned) { try ModelVerifier(configuration: configuration).verify(publication, serving: nil) }
    }
}
