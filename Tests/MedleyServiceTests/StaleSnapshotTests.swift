import Logging
import MedleyModel
import Testing
import ZeroMQ

@testable import MedleyModelDistribution

@Suite("stale snapshots", .serialized)
struct StaleSnapshotTests {
    /// A snapshot answers with the trainer's model at the time it was asked for; when a newer
    /// model is already serving (a publication overtook it), the answer is old news, not a
    /// refused model: nothing installed, nothing counted as refused, no warning.
    @Test func aSnapshotOlderThanTheServingModelIsIgnoredNotRefused() throws {
        let publisher = try HotReloadFixtures.publisher()
        defer { publisher.close() }
        try publisher.publish(try HotReloadFixtures.contents(version: 3))
        let models = ServingModel(try MultitaskModel(try HotReloadFixtures.contents(version: 5)))
        let installer = ModelInstaller(models: models, modelDirectory: nil)

        let context = try Context()
        defer { try? context.terminate() }
        let subscription = try ModelSubscription(
            context: context,
            endpoints: .init(publicationEndpoint: publisher.boundPublicationEndpoint, snapshotEndpoint: publisher.boundSnapshotEndpoint),
            configuration: ModelUpdateConfiguration(), installer: installer, logger: Logger(label: "test"))
        defer { subscription.close() }
        let socket = try #require(subscription.snapshotSocket)
        var poller = Poller()
        let index = try poller.register(socket)
        #expect(try poller.poll(timeout: .seconds(30)) > 0 && poller.isReadable(index), "the publisher never answered")
        try subscription.receiveSnapshot()

        #expect(models.version == 5)
        #expect(installer.status.rejected == 0)
        #expect(installer.status.installed == 0)
    }
}
