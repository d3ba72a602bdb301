import Foundation
import MedleyProtocol
import Testing

@testable import MedleyModelDistribution
@testable import MedleyService

/// Health and stats as the status type derives them from the broker's state.
@Suite("service status")
struct ServiceStatusTests {
    @Test func healthSaysWhatKeepsTheServiceFromServingInOrder() throws {
        let models = ServingModel(try ServiceFixtures.model())
        let status = ServiceStatus(models: models, installer: ModelInstaller(models: models, modelDirectory: nil), metrics: nil)
        let sync = WorkerModelSync(resendAfter: .seconds(30))
        var workers = WorkerRegistry()

        let alone = status.health(workers: workers, modelSync: sync, logWriteFailure: "disk full")
        #expect(alone.status == .notReady && alone.detail == "no worker connected", "no worker outranks the log's failure")
        #expect(alone.domains.map(\.name) == ServiceFixtures.domains)

        let added = workers.add(routingID: [1], name: "w", now: .now)
        #expect(added)
        let failing = status.health(workers: workers, modelSync: sync, logWriteFailure: "disk full")
        #expect(failing.status == .degraded && failing.detail.contains("disk full"))
        #expect(status.health(workers: workers, modelSync: sync, logWriteFailure: nil).status == .serving)

        let empty = ServiceStatus(models: ServingModel(), installer: ModelInstaller(models: ServingModel(), modelDirectory: nil), metrics: nil)
        #expect(empty.health(workers: workers, modelSync: sync, logWriteFailure: nil).detail == "no model loaded")
    }

    @Test func statsAddTheWorkersFiguresToTheBrokersCounters() throws {
        let models = ServingModel(try ServiceFixtures.model())
        var status = ServiceStatus(models: models, installer: ModelInstaller(models: models, modelDirectory: nil), metrics: nil)
        var workers = WorkerRegistry()
        for (id, sessions) in [([UInt8(1)], UInt64(3)), ([2], 4)] {
            _ = workers.add(routingID: id, name: "w\(id[0])", now: .now)
            workers.update(id) {
                $0.stats.sessions = sessions
                $0.stats.errors = 1
            }
        }
        workers.update([2]) { $0.inFlight = [7, 8] }
        status.received()
        status.received()
        status.repliedError(.invalidArgument)
        status.replied(after: .milliseconds(2))

        let stats = status.stats(workers: workers, eventsLogged: 12)
        #expect(stats.requests == 2)
        #expect(stats.errors == 1 + 2, "the broker's error replies and each worker's errors")
        #expect(stats.sessions == 7)
        #expect(stats.eventsLogged == 12)
        #expect(stats.workers.map(\.queueDepth) == [0, 2])
        #expect(stats.modelVersion == models.version)
    }
}
