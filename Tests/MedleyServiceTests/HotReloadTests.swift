import Foundation
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyModelDistribution
@testable import MedleyService

@Suite("hot reload over the publication socket", .serialized)
struct HotReloadTests {
    @Test func twentyPublicationsSwapInWhileClientsKeepAsking() throws {
        let publisher = try HotReloadFixtures.publisher()
        defer { publisher.close() }
        let server = try HotReloadFixtures.server(model: try ServiceFixtures.model(version: 1), subscribedTo: publisher)
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)

        let load = RecommendLoad(clients: 4, endpoint: server.clientEndpoint, context: context)
        let published: [UInt64] = Array(2...21)
        for version in published {
            try publisher.publish(try HotReloadFixtures.contents(version: version, seed: 1000 + version))
            // Paced: the next version is published once a client has been answered by this one.
            #expect(within { load.versionsSeen.contains(version) }, "version \(version) was never served")
        }
        let versions = load.stop()

        #expect(load.failures.isEmpty, "\(load.failures)")
        for (index, seen) in versions.enumerated() {
            #expect(!seen.isEmpty)
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0 <= $1 }, "client \(index) saw versions go backwards")
        }
        #expect(Set(published).isSubset(of: Set(versions.joined())))
        let stats = try client.stats()
        #expect(stats.modelVersion == 21)
        #expect(stats.modelsInstalled == 20)
        #expect(stats.modelsRejected == 0)
        #expect(try client.health().status == .serving)
    }

    @Test func aLateServerGetsTheCurrentModelBySnapshot() throws {
        let publisher = try HotReloadFixtures.publisher()
        defer { publisher.close() }
        // Published before any server exists: nobody receives these on the PUB socket.
        try publisher.publish(try HotReloadFixtures.contents(version: 4))
        try publisher.publish(try HotReloadFixtures.contents(version: 5))

        let server = try HotReloadFixtures.server(model: try ServiceFixtures.model(version: 1), subscribedTo: publisher)
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        #expect(try within { try client.health().modelVersion == 5 })
        try server.waitUntilServing(client: client, workers: 2)
        #expect(try client.recommend(HotReloadFixtures.recommendRequest(user: "late")).modelVersion == 5)
        #expect(try client.stats().modelsInstalled == 1)
    }

    @Test func aServerWithNoModelStartsServingTheFirstPublication() throws {
        let publisher = try HotReloadFixtures.publisher()
        defer { publisher.close() }
        let server = try HotReloadFixtures.server(model: nil, subscribedTo: publisher)
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        let before = try client.health()
        #expect(before.status == .notReady)
        #expect(before.domains.isEmpty)
        try publisher.publish(try HotReloadFixtures.contents(version: 3, domains: ["news", "video", "music", "podcasts"], itemsPerDomain: 7, users: ["a", "b"]))
        #expect(try within { try client.health().status == .serving })
        // What a client may ask for, discovered on the request socket.
        let health = try client.health()
        #expect(health.domains.map(\.name) == ["news", "video", "music", "podcasts"])
        #expect(health.domains.map(\.items) == [7, 7, 7, 7])
        #expect(health.modelUsers == 2)
        #expect(health.modelVersion == 3)
        #expect(health.maxIDBytes == 256)
        #expect(try client.recommend(HotReloadFixtures.recommendRequest(user: "first")).modelVersion == 3)
    }

    @Test func aSkippedSequenceNumberFetchesTheSnapshot() throws {
        // The snapshot socket belongs to a real publisher; the publications come from a raw PUB
        // socket, so the test decides which sequence numbers the server sees.
        let publisher = try HotReloadFixtures.publisher()
        defer { publisher.close() }
        let context = try Context()
        let raw = try context.socket(.publisher)
        try raw.set(.lingerMilliseconds, 0)
        try raw.bind("tcp://127.0.0.1:*")
        let rawEndpoint = try raw.lastEndpoint
        let server = try RunningServer(model: try ServiceFixtures.model(version: 1), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.modelUpdates.subscription = .init(publicationEndpoint: rawEndpoint, snapshotEndpoint: publisher.boundSnapshotEndpoint)
            $0.modelUpdates.snapshotRetryMilliseconds = 100
        }
        defer { try? server.shutDown() }
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)

        func send(_ contents: ModelFileContents, sequence: UInt64) throws {
            var publication = try ModelPublication(contents: contents, signingKey: nil)
            publication.announcement.sequence = sequence
            try raw.send(multipart: try publication.publicationFrames())
        }
        // Sent until it arrives: the first messages on a new PUB connection may be lost.
        let three = try HotReloadFixtures.contents(version: 3)
        #expect(try within {
            try send(three, sequence: 1)
            return try client.health().modelVersion == 3
        })
        // Published only on the publisher the server does not subscribe to.
        try publisher.publish(try HotReloadFixtures.contents(version: 9))
        // Sequence 2 never arrives: 3 follows 1, so the server asks for the snapshot.
        try send(try HotReloadFixtures.contents(version: 4), sequence: 3)
        // Version 9 reached the server only through the snapshot socket. (Repeats of version 3
        // still in flight may be refused as older meanwhile; that is not what is checked here.)
        #expect(try within { try client.health().modelVersion == 9 })
        raw.close()
    }

    @Test func aSubscriptionThatCannotStartShowsInHealth() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(version: 1), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.modelUpdates.subscription = .init(publicationEndpoint: "nonsense://nowhere")
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        #expect(try within { try client.health().status == .degraded })
        #expect(try client.health().detail.contains("model updates stopped"))
        #expect(try client.recommend(HotReloadFixtures.recommendRequest(user: "u")).modelVersion == 1)
    }

    @Test func sessionsSurviveASwap() throws {
        let publisher = try HotReloadFixtures.publisher()
        defer { publisher.close() }
        let server = try HotReloadFixtures.server(model: try ServiceFixtures.model(version: 1), subscribedTo: publisher)
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        let now = ServiceFixtures.nowMs
        let seen = (0..<6).map { "m\($0)" }
        _ = try client.ingest(seen.enumerated().map { index, item in
            ServiceFixtures.event(user: "ana", item: item, domain: "music", at: now - 10_000 + Int64(index))
        })
        var request = HotReloadFixtures.recommendRequest(user: "ana", k: 20)
        request.domains = ["music"]
        let before = try client.recommend(request)
        #expect(before.modelVersion == 1)
        #expect(before.domains[0].items.count == 14)

        try publisher.publish(try HotReloadFixtures.contents(version: 2, seed: 77))
        #expect(try within { try client.health().modelVersion == 2 })
        let after = try client.recommend(request)
        #expect(after.modelVersion == 2)
        #expect(after.sessionID == before.sessionID)
        let items = after.domains[0].items.map(\.itemID)
        #expect(items.count == 14)
        #expect(Set(items).isDisjoint(with: seen), "the session's items are still excluded under the new model")
    }
}
