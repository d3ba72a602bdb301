@testable import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService

/// A recommend reply written straight from the model's lists is the reply message holding
/// them, byte for byte as that message's own encoder writes it.
@Suite("Recommend reply frames")
struct RecommendReplyFrameTests {
    /// The message the frame stands for, built field by field.
    private static func message(_ result: Recommendations, _ frame: RecommendReplyFrame) -> Medley_V1_Reply {
        func ranked(_ list: [Recommendation]) -> [Medley_V1_RankedItem] {
            list.prefix(frame.length).map { recommendation in
                var item = Medley_V1_RankedItem()
                item.itemID = recommendation.item.id
                item.domain = recommendation.item.domain
                if frame.includeScores { item.score = recommendation.score }
                return item
            }
        }
        var reply = Medley_V1_RecommendReply()
        reply.domains = frame.domains.map { index in
            var ranking = Medley_V1_DomainRanking()
            ranking.domain = result.domains[index]
            ranking.items = ranked(result.perDomain[index])
            return ranking
        }
        reply.sessionNext = ranked(result.session)
        for (name, probability) in zip(result.domains, result.nextDomainProbabilities) {
            reply.nextDomainProbability[name] = probability
        }
        reply.blended = ranked(result.blended)
        reply.modelVersion = frame.modelVersion
        reply.sessionID = frame.sessionID
        reply.requestTimeMs = frame.requestTimeMs
        return Medley_V1_Reply(requestID: frame.requestID, modelVersion: frame.modelVersion, body: .recommend(reply))
    }

    private static func list(_ count: Int, domain: String, idLength: Int = 6, seed: Int) -> [Recommendation] {
        (0..<count).map { r in
            let id = String(repeating: "é", count: idLength / 2) + "\(seed)-\(r)"
            return Recommendation(item: ItemReference(domain: domain, id: id), row: r, score: Float(seed) - Float(r) * 0.37)
        }
    }

    @Test(arguments: [false, true])
    func framesAreTheMessagesBytes(includeScores: Bool) throws {
        let domains = ["video", "news", "müsic"]
        let result = Recommendations(
            domains: domains,
            perDomain: [Self.list(12, domain: "video", seed: 1), Self.list(3, domain: "news", seed: 2), Self.list(0, domain: "müsic", seed: 3)],
            session: Self.list(12, domain: "news", idLength: 300, seed: 4),  // items over 127 bytes: two-byte lengths
            nextDomainProbabilities: [0.5, 0, 0.25],
            blended: Self.list(9, domain: "video", seed: 5) + [Recommendation(item: ItemReference(domain: "", id: ""), row: 9, score: 0)])
        let frames = [
            RecommendReplyFrame(requestID: 9, modelVersion: 3, domains: [0, 1, 2], length: 10, includeScores: includeScores,
                                sessionID: "ana@1", requestTimeMs: 1_700_000_000_000),
            RecommendReplyFrame(requestID: 0, modelVersion: 0, domains: [2, 0], length: 2, includeScores: includeScores,
                                sessionID: "", requestTimeMs: 0),
            RecommendReplyFrame(requestID: UInt64.max, modelVersion: 1 << 40, domains: [], length: 50, includeScores: includeScores,
                                sessionID: String(repeating: "s", count: 200), requestTimeMs: -5),
        ]
        for frame in frames {
            let bytes = frame.bytes(for: result)
            let expected = Self.message(result, frame)
            let decoded = try Medley_V1_Reply(serializedBytes: bytes)
            #expect(decoded == expected)
            #expect(try expected.serializedFrame() == bytes)
        }
    }

    /// A domain named twice in a result keeps its last probability in the map, as the message's
    /// does, and an empty name is still a key (the map entry holds it).
    @Test func aRepeatedDomainKeepsItsLastProbability() throws {
        let result = Recommendations(domains: ["b", "a", "b", ""], perDomain: [[], [], [], []], session: [],
                                     nextDomainProbabilities: [0.1, 0.2, 0.7, 0.05], blended: [])
        let frame = RecommendReplyFrame(requestID: 1, modelVersion: 1, domains: [0, 3], length: 5, includeScores: false,
                                        sessionID: "", requestTimeMs: 0)
        let bytes = frame.bytes(for: result)
        #expect(try Medley_V1_Reply(serializedBytes: bytes).recommend.nextDomainProbability == ["a": 0.2, "b": 0.7, "": 0.05])
        #expect(try Self.message(result, frame).serializedFrame() == bytes)
    }
}
