import Foundation
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyModelDistribution
@testable import MedleyService

/// With a trainer key, model files from the model directory need their detached signature.
@Suite("signed model files", .serialized)
struct SignedModelFileTests {
    private func writeSigned(_ contents: ModelFileContents, to directory: String, key: ModelSigningKey?) throws {
        let path = "\(directory)/\(contents.configuration.modelVersion).safetensors"
        let bytes = ModelFile.encode(contents)
        if let key { try ModelSignatureFile.write(signing: bytes, version: contents.configuration.modelVersion, with: key, forModelAt: path) }
        try ModelFile.writeBytes(bytes, to: URL(fileURLWithPath: path))
    }

    @Test func controlLoadsAndTheWatcherNeedTheTrainersSignature() throws {
        let trainer = ModelSigningKey()
        let impostor = ModelSigningKey()
        let models = try ServiceFixtures.temporaryDirectory()
        try writeSigned(try HotReloadFixtures.contents(version: 2), to: models, key: nil)
        try writeSigned(try HotReloadFixtures.contents(version: 3), to: models, key: impostor)
        try writeSigned(try HotReloadFixtures.contents(version: 4), to: models, key: trainer)
        // A signature of another version's file does not carry over.
        try FileManager.default.copyItem(atPath: "\(models)/4.safetensors.sig", toPath: "\(models)/5.safetensors.sig")
        try writeSigned(try HotReloadFixtures.contents(version: 5), to: models, key: nil)
        let server = try RunningServer(model: try ServiceFixtures.model(version: 1), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.broker.modelDirectory = models
            $0.modelUpdates.trainerKey = trainer.verificationKey
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)

        func load(_ version: UInt64) throws -> Medley_V1_Error? { try client.loadRefusal(version: version) }
        #expect(try load(2)?.message.contains("unsigned") == true)
        #expect(try load(3)?.message.contains("signature is not the trainer key's") == true)
        #expect(try load(5)?.message.contains("signature is not the trainer key's") == true)
        #expect(try client.health().modelVersion == 1)
        #expect(try load(4) == nil)
        #expect(try client.health().modelVersion == 4)
    }

    @Test func theWatcherSkipsAnUnsignedFileAndTakesASignedOne() throws {
        let trainer = ModelSigningKey()
        let models = try ServiceFixtures.temporaryDirectory()
        let server = try RunningServer(model: try ServiceFixtures.model(version: 1), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.broker.modelDirectory = models
            $0.modelUpdates.watchModelDirectory = true
            $0.modelUpdates.watchIntervalMilliseconds = 50
            $0.modelUpdates.trainerKey = trainer.verificationKey
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)

        try writeSigned(try HotReloadFixtures.contents(version: 6), to: models, key: nil)
        #expect(try within { try client.stats().modelsRejected == 1 })
        #expect(try client.health().modelVersion == 1)
        try writeSigned(try HotReloadFixtures.contents(version: 7), to: models, key: trainer)
        #expect(try within { try client.health().modelVersion == 7 })
    }
}
