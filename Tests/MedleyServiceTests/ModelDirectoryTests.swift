import Foundation
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyService

@Suite("models from the model directory", .serialized)
struct ModelDirectoryTests {
    static func write(_ contents: ModelFileContents, to directory: String) throws {
        try ModelFile.write(contents, to: URL(fileURLWithPath: "\(directory)/\(contents.configuration.modelVersion).safetensors"))
    }

    /// A serving server that watches `models`, scanning every 50 ms, and a client of it.
    static func watchingServer(model: MultitaskModel, models: String, context: Context) throws -> (RunningServer, ServiceClient) {
        let server = try RunningServer(model: model, logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.broker.modelDirectory = models
            $0.modelUpdates.watchModelDirectory = true
            $0.modelUpdates.watchIntervalMilliseconds = 50
        }
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        return (server, client)
    }

    @Test func aNewFileInTheWatchedDirectoryIsPickedUp() throws {
        let models = try ServiceFixtures.temporaryDirectory()
        let context = try Context()
        let (server, client) = try Self.watchingServer(model: try ServiceFixtures.model(version: 1), models: models, context: context)
        defer { try? server.shutDown() }

        try Self.write(try HotReloadFixtures.contents(version: 5), to: models)
        #expect(try within { try client.health().modelVersion == 5 })
        #expect(try client.recommend(HotReloadFixtures.recommendRequest(user: "u")).modelVersion == 5)

        // Older files, temporary files and other names are left alone; a bad file is refused once.
        try Self.write(try HotReloadFixtures.contents(version: 4), to: models)
        try [UInt8](repeating: 7, count: 100).write(to: "\(models)/.7.safetensors.tmp-1")
        try [UInt8](repeating: 7, count: 100).write(to: "\(models)/6.safetensors")
        #expect(try within { try client.stats().modelsRejected == 1 })
        #expect(try client.stats().lastModelRejection.contains("6.safetensors"))
        #expect(try client.health().status == .degraded)

        // The next good file is taken, and the bad one is not tried again while unchanged.
        try Self.write(try HotReloadFixtures.contents(version: 8), to: models)
        #expect(try within { try client.health().modelVersion == 8 })
        #expect(try client.health().status == .serving)
        let stats = try client.stats()
        #expect(stats.modelsRejected == 1)
        #expect(stats.modelsInstalled == 2)
    }

    @Test func theDefaultModelWithAnOverflowingBiasIsRefusedAndRepliesStayFull() throws {
        // The reported case: models/default.safetensors with every encoder.layers.0.bias value
        // set to 3e38, saved as version 21 into the watched directory.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let serving = try MultitaskModel(contentsOf: root.appendingPathComponent("models/default.safetensors"))
        var bad = serving.contents
        bad.configuration.modelVersion = 21
        bad.parameters.tensors["encoder.layers.0.bias"]!.scalars = bad.parameters["encoder.layers.0.bias"].scalars.map { _ in 3e38 }
        let models = try ServiceFixtures.temporaryDirectory()
        let context = try Context()
        let (server, client) = try Self.watchingServer(model: serving, models: models, context: context)
        defer { try? server.shutDown() }
        try Self.write(bad, to: models)
        #expect(try within { try client.stats().modelsRejected == 1 })
        #expect(try client.stats().lastModelRejection.contains("weights too large to serve"))
        let health = try client.health()
        #expect(health.status == .degraded)
        #expect(health.modelVersion == 1)
        let reply = try client.recommend(HotReloadFixtures.recommendRequest(user: "user-1"))
        #expect(reply.domains.allSatisfy { $0.items.count == 5 })
        #expect(reply.blended.count == 5)
    }

    @Test func controlRequestsLoadAVersionAndRollBack() throws {
        let models = try ServiceFixtures.temporaryDirectory()
        try Self.write(try HotReloadFixtures.contents(version: 3), to: models)
        try Self.write(try HotReloadFixtures.contents(version: 4, domains: ["news", "video"]), to: models)
        try [UInt8](repeating: 0, count: 64).write(to: "\(models)/5.safetensors")
        let server = try RunningServer(model: try ServiceFixtures.model(version: 1), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.broker.modelDirectory = models
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)

        var load = Medley_V1_ControlRequest()
        load.loadModel.version = 3
        let loaded = try client.control(load)
        #expect(loaded.previousVersion == 1)
        #expect(loaded.currentVersion == 3)
        #expect(try client.recommend(HotReloadFixtures.recommendRequest(user: "u")).modelVersion == 3)

        var rollback = Medley_V1_ControlRequest()
        rollback.rollbackModel = Medley_V1_ControlRequest.RollbackModel()
        let rolled = try client.control(rollback)
        #expect(rolled.previousVersion == 3)
        #expect(rolled.currentVersion == 1)
        #expect(try client.recommend(HotReloadFixtures.recommendRequest(user: "u")).modelVersion == 1)

        func refusal(_ version: UInt64) throws -> Medley_V1_Error? { try client.loadRefusal(version: version) }
        #expect(try refusal(9)?.code == .notFound)
        #expect(try refusal(4)?.code == .modelRejected)
        #expect(try refusal(4)?.message.contains("does not serve music") == true)
        #expect(try refusal(5)?.code == .modelRejected)
        #expect(try client.health().modelVersion == 1)
        #expect(try client.stats().modelsRejected == 3)
    }

    @Test func theWatcherOnlyTakesModelFileNames() {
        #expect(ModelFileName.version(of: "12.safetensors") == 12)
        #expect(ModelFileName.version(of: "default.safetensors") == nil)
        #expect(ModelFileName.version(of: ".12.safetensors.tmp-3-4") == nil)
        #expect(ModelFileName.version(of: "+12.safetensors") == nil)
        #expect(ModelFileName.version(of: ".safetensors") == nil)
        #expect(ModelFileName.version(of: "99999999999999999999999.safetensors") == nil)
    }
}

extension ServiceClient {
    /// Asks the server to load a model version: nil when it did, the error when it refused.
    func loadRefusal(version: UInt64) throws -> Medley_V1_Error? {
        var request = Medley_V1_ControlRequest()
        request.loadModel.version = version
        do {
            _ = try control(request)
            return nil
        } catch ServiceClientError.service(let error) {
            return error
        }
    }
}

extension [UInt8] {
    func write(to path: String) throws {
        try Data(self).write(to: URL(fileURLWithPath: path))
    }
}
