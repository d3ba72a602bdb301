import Foundation
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyService

/// A control request's model is verified and warmed on the model manager's thread, and the
/// broker answers other requests meanwhile.
@Suite("control loads off the broker's thread", .serialized)
struct ControlLoadTests {
    /// The broker reads one connection's requests in order. Had it loaded the model itself,
    /// the control reply would come before the health request were even read; handed to the
    /// manager, whose load warms the model for many passes, the health reply comes first.
    @Test func healthSentAfterAControlLoadIsAnsweredBeforeTheLoad() throws {
        let models = try ServiceFixtures.temporaryDirectory()
        try ModelDirectoryTests.write(try HotReloadFixtures.contents(version: 3), to: models)
        let server = try RunningServer(model: try ServiceFixtures.model(version: 1), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.broker.modelDirectory = models
            $0.modelUpdates.warmUpPasses = 2_000
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)

        let raw = try RawClient(context: context, endpoint: server.clientEndpoint)
        try raw.socket.set(.receiveTimeoutMilliseconds, 60_000)
        defer { raw.socket.close() }
        var load = Medley_V1_ControlRequest()
        load.loadModel.version = 3
        try raw.send(1, .control(load))
        try raw.send(2, .health(Medley_V1_HealthRequest()))

        let first = try raw.receiveReply()
        #expect(first.requestID == 2, "the control load held up the health request")
        #expect(first.health.modelVersion == 1)
        let loaded = first.requestID == 1 ? first : try raw.receiveReply()
        #expect(loaded.requestID == 1)
        #expect(loaded.control.previousVersion == 1 && loaded.control.currentVersion == 3, "\(loaded)")
        #expect(try client.health().modelVersion == 3)
    }
}
