import Foundation
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyService

@Suite struct AdaptiveBatchingTests {
    @Test func aBatchOpenedOnAnIdleWorkerIsDueAtOnce() {
        let batching = AdaptiveBatching(maxDelayMicroseconds: 10_000_000)
        let now = ContinuousClock().now
        #expect(batching.deadline(forBatchOpenedAt: now) == now)
    }

    @Test func aLoneRequestAfterALoneRequestIsDueAtOnce() {
        var batching = AdaptiveBatching(maxDelayMicroseconds: 10_000_000)
        let now = ContinuousClock().now
        batching.flushed(size: 1, at: now)
        #expect(batching.deadline(forBatchOpenedAt: now.advanced(by: .microseconds(10))) == now.advanced(by: .microseconds(10)))
    }

    @Test func underLoadABatchMayWaitTheDelayButNotAfterAQuietSpell() {
        var batching = AdaptiveBatching(maxDelayMicroseconds: 500)
        let now = ContinuousClock().now
        batching.flushed(size: 8, at: now)
        let soon = now.advanced(by: .microseconds(100))
        #expect(batching.deadline(forBatchOpenedAt: soon) == soon.advanced(by: .microseconds(500)))
        let later = now.advanced(by: .milliseconds(5))
        #expect(batching.deadline(forBatchOpenedAt: later) == later)
    }

    @Test func withoutADelayEveryBatchIsDueAtOnce() {
        var batching = AdaptiveBatching(maxDelayMicroseconds: 0)
        let now = ContinuousClock().now
        batching.flushed(size: 32, at: now)
        #expect(batching.deadline(forBatchOpenedAt: now) == now)
    }
}

/// Through a real server: a batching delay far longer than the client's time-out does not
/// hold back a request that reaches an idle worker.
@Suite("adaptive batching in the service", .serialized)
struct AdaptiveBatchingServiceTests {
    @Test func aLoneRequestIsAnsweredWithoutWaitingForTheBatchDelay() throws {
        let directory = try ServiceFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: directory) {
            $0.worker.maxBatchDelayMicroseconds = 60_000_000
            // Heartbeats also flush a batch: keep them out of the 10 s the client waits.
            $0.worker.heartbeatIntervalMilliseconds = 30_000
            $0.broker.heartbeatIntervalMilliseconds = 30_000
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint, timeoutMilliseconds: 10_000)
        try server.waitUntilServing(client: client, workers: 2)
        for user in ["ana", "bo", "cy"] {
            var request = Medley_V1_RecommendRequest()
            request.userID = user
            request.k = 3
            // Answered within the 10 s time-out although a batch may wait 60 s under load.
            let reply = try client.recommend(request)
            #expect(reply.domains.count == 3 && reply.sessionNext.count == 3)
        }
    }
}
