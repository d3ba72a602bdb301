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
            #expect(s.domains.count == a.domains.count)
            for (splitList, aloneList) in zip(s.domains, a.domains) { expectSameRanking(splitList.items, aloneList.items) }
            #expect(s.domains.allSatisfy { $0.items.count == 20 })
            expectSameRanking(s.sessionNext, a.sessionNext)
            // The blended list interleaves the domain lists: the same when they are.
            if s.domains.map({ $0.items.map(\.itemID) }) == a.domains.map({ $0.items.map(\.itemID) }) {
                #expect(s.blended.map(\.itemID) == a.blended.map(\.itemID))
            }
        }
    }

    /// The same items in the same order, except that two whose scores differ only by float32
    /// rounding may trade places (a part's scores come from the same kernels over other
    /// boundaries, which may round the last bit differently), also across the list's end.
    private func expectSameRanking(_ split: [Medley_V1_RankedItem], _ alone: [Medley_V1_RankedItem],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        let tolerance: Float = 1e-5
        #expect(split.count == alone.count, sourceLocation: sourceLocation)
        for (s, a) in zip(split, alone) {
            #expect(abs(s.score - a.score) <= tolerance * max(1, abs(a.score)),
                    "\(s.itemID) \(s.score) against \(a.itemID) \(a.score)", sourceLocation: sourceLocation)
        }
        let aloneScores = Dictionary(uniqueKeysWithValues: alone.map { ($0.itemID, $0.score) })
        let last = alone.last?.score ?? 0
        for item in split {
            if let score = aloneScores[item.itemID] {
                #expect(abs(item.score - score) <= tolerance * max(1, abs(score)), sourceLocation: sourceLocation)
            } else {
                #expect(abs(item.score - last) <= tolerance * max(1, abs(last)),
                        "\(item.itemID) is in the split list only, and not tied with the last item", sourceLocation: sourceLocation)
            }
        }
    }
}
