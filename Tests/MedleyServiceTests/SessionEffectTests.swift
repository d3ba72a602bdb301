import Foundation
import MedleyModel
import MedleyProtocol
import MedleyTraining
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyEvaluation
@testable import MedleyService

/// With the bundled default model (trained on the synthetic data set of seed 1, see
/// models/README.md), a session must steer the answer the way the planted structure says.
@Suite("Sessions steer recommendations", .serialized)
struct SessionEffectTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func aRunOfMusicEventsRaisesMusicAndItsNeighbourhood() throws {
        let model = try MultitaskModel(contentsOf: Self.repositoryRoot.appendingPathComponent("models/default.safetensors"))
        let truth = SyntheticDataset(configuration: .init(seed: 1, users: 1000)).groundTruth
        let clusters = SyntheticDataset.Configuration(seed: 1).clustersPerDomain
        let musicItems = truth.itemIDs.indices.filter { truth.itemDomain[$0] == 2 }
        // News from four different clusters, so that no music cluster is favoured beforehand.
        let newsItems = (0..<4).map { cluster in truth.itemIDs.indices.first { truth.itemDomain[$0] == 0 && truth.itemCluster[$0] == cluster }! }
        let server = try RunningServer(model: model, logDirectory: try ServiceFixtures.temporaryDirectory())
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        let now = ServiceFixtures.nowMs

        var rankGains: [Double] = []
        var sharesBefore: [Double] = []
        var sharesAfter: [Double] = []
        for cluster in 0..<clusters {
            // A user the model has never seen, reading news, then playing five songs of one cluster.
            let user = "listener-\(cluster)"
            let neighbourhood = musicItems.filter { truth.itemCluster[$0] == cluster }.map { truth.itemIDs[$0] }
            let played = Array(neighbourhood.prefix(5))
            let unplayed = Set(neighbourhood.dropFirst(5))
            _ = try client.ingest(newsItems.enumerated().map { offset, item in
                ServiceFixtures.event(user: user, item: truth.itemIDs[item], domain: "news", type: .complete, at: now - 60_000 + Int64(offset))
            })
            var request = Medley_V1_RecommendRequest()
            request.userID = user
            request.k = UInt32(musicItems.count)
            request.domains = ["music"]
            let newsOnly = try client.recommend(request)
            _ = try client.ingest(played.enumerated().map { offset, item in
                ServiceFixtures.event(user: user, item: item, domain: "music", type: .complete, at: now - 30_000 + Int64(offset) * 1000)
            })
            let afterMusic = try client.recommend(request)

            let pBefore = newsOnly.nextDomainProbability["music"] ?? 0
            let pAfter = afterMusic.nextDomainProbability["music"] ?? 0
            #expect(pAfter > pBefore + 0.3, "cluster \(cluster): music's next-domain probability \(pBefore) → \(pAfter)")

            // The neighbourhood's other songs move up the music list.
            func meanRank(_ reply: Medley_V1_RecommendReply) -> Double {
                let ranks = reply.domains[0].items.enumerated().filter { unplayed.contains($0.element.itemID) }.map { Double($0.offset) }
                return ranks.reduce(0, +) / Double(max(ranks.count, 1))
            }
            func topTenShare(_ reply: Medley_V1_RecommendReply) -> Double {
                Double(reply.domains[0].items.prefix(10).filter { unplayed.contains($0.itemID) }.count) / 10
            }
            rankGains.append(meanRank(newsOnly) - meanRank(afterMusic))
            sharesBefore.append(topTenShare(newsOnly))
            sharesAfter.append(topTenShare(afterMusic))
            #expect(Set(afterMusic.domains[0].items.map(\.itemID)).isDisjoint(with: played), "played songs are not recommended again")
        }
        // Songs of the session's cluster move up the music list (the model is small, so allow
        // one cluster to move less than the rest).
        #expect(rankGains.filter { $0 > 0 }.count >= clusters - 1, "mean-rank gains per cluster: \(rankGains)")
        #expect(rankGains.reduce(0, +) / Double(clusters) > 15, "mean-rank gains per cluster: \(rankGains)")
        let before = sharesBefore.reduce(0, +) / Double(clusters)
        let after = sharesAfter.reduce(0, +) / Double(clusters)
        #expect(after > before + 0.15, "the session's neighbourhood fills more of the top ten: \(sharesBefore) → \(sharesAfter)")
    }
}
