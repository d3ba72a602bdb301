import Foundation
import MedleyClient
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyService

/// `medley serve --split-requests`: a lone request on a catalogue large enough to split is
/// answered with the lists a server that does not split gives.
@Suite("Requests split over idle workers")
struct SplitRequestServingTests {
    private func replies(split: Bool, model: MultitaskModel) throws -> [Medley_V1_RecommendReply] {
        let directory = try ServiceFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try RunningServer(model: model, logDirectory: directory) { $0.splitsRequestsOverIdleWorkers = split }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint, timeoutMilliseconds: 20_000)
        try server.waitUntilServing(client: client, workers: 2)
        return try ["ana", "bo", "cy"].enumerated().map { index, user in
            var request = Medley_V1_RecommendRequest()
            request.userID = user
            request.k = 20
            request.includeScores = true
            // Pinned, so that both servers build the same time-of-day features: seconds apart,
            // they would score with different ones and near-tied items could swap.
            request.requestTimeMs = ServiceFixtures.nowMs
            request.context = [ServiceFixtures.event(user: user, item: "m\(index * 101)", domain: "music", at: ServiceFixtures.nowMs),
                               ServiceFixtures.event(user: user, item: "n\(index * 7)", domain: "news", at: ServiceFixtures.nowMs)]
            return try client.recommend(request)
        }
    }

    @Test func aSplitRequestGetsTheListsOfOneThread() throws {
        // 17,000 items per domain: each block splits in two (8,192 rows per part at least).
        let model = try MultitaskModel(HotReloadFixtures.contents(version: 1, itemsPerDomain: 17_000))
        let split = try replies(split: true, model: model)
        let alone = try replies(split: false, model: model)
        #expect(split.count == 3 && alone.count == 3)
        for (s, a) in zip(split, alone) {
            #expect(s.domains.map { $0.items.map(\.itemID) } == a.domains.map { $0.items.map(\.itemID) })
            #expect(s.domains.allSatisfy { $0.items.count == 20 })
            #expect(s.sessionNext.map(\.itemID) == a.sessionNext.map(\.itemID))
            #expect(s.blended.map(\.itemID) == a.blended.map(\.itemID))
        }
    }
}
