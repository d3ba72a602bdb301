import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService

@Suite("Recommendation batches")
struct RecommendationResponderTests {
    private let responder = RecommendationResponder(configuration: WorkerConfiguration(brokerEndpoint: "inproc://unused", name: "test"))

    private func pending(_ user: String, id: UInt64, k: UInt32 = 5, domains: [String] = []) -> PendingRecommendation {
        var request = Medley_V1_RecommendRequest()
        request.userID = user
        request.k = k
        request.domains = domains
        request.includeScores = true
        return PendingRecommendation(ticket: id, envelope: [[]], requestID: id, request: request)
    }

    @Test func aBatchAnswersLikeSingleRequestsAndIsolatesBadOnes() throws {
        let model = try ServiceFixtures.model(users: ["known-user"])
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        for (index, item) in ["m1", "m2", "v3"].enumerated() {
            sessions.append(SessionEntry(itemID: item, domain: item.hasPrefix("m") ? "music" : "video", type: .play, timestampMs: now + Int64(index)), userID: "ana", nowMs: now)
        }
        sessions.append(SessionEntry(itemID: "n4", domain: "news", type: .view, timestampMs: now), userID: "known-user", nowMs: now)

        let batch = [pending("ana", id: 1), pending("bob", id: 2, domains: ["podcasts"]), pending("known-user", id: 3, k: 2)]
        let together = responder.answer(batch, sessions: sessions, model: model, nowMs: now)
        #expect(together.map(\.requestID) == [1, 2, 3])
        #expect(together[1].error.code == .unknownDomain)
        let alone = [batch[0], batch[2]].map { responder.answer([$0], sessions: sessions, model: model, nowMs: now)[0] }
        for (batched, single) in zip([together[0], together[2]], alone) {
            #expect(batched.recommend.domains.map { $0.items.map(\.itemID) } == single.recommend.domains.map { $0.items.map(\.itemID) })
            for (a, b) in zip(batched.recommend.domains.flatMap(\.items), single.recommend.domains.flatMap(\.items)) {
                #expect(abs(a.score - b.score) < 1e-4)
            }
        }
        #expect(together[2].recommend.domains.allSatisfy { $0.items.count == 2 })
        #expect(together[0].recommend.sessionID == "ana@\(now)")
        #expect(together[0].modelVersion == 1)
    }

    @Test func sessionsChangeTheAnswer() throws {
        let model = try ServiceFixtures.model()
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        let empty = responder.answer([pending("ana", id: 1)], sessions: sessions, model: model, nowMs: now)[0]
        for index in 0..<5 {
            sessions.append(SessionEntry(itemID: "m\(index)", domain: "music", type: .complete, timestampMs: now + Int64(index)), userID: "ana", nowMs: now)
        }
        let withSession = responder.answer([pending("ana", id: 1)], sessions: sessions, model: model, nowMs: now)[0]
        #expect(empty.recommend.nextDomainProbability != withSession.recommend.nextDomainProbability)
        let music = withSession.recommend.domains.first { $0.domain == "music" }!.items.map(\.itemID)
        #expect(Set(music).isDisjoint(with: (0..<5).map { "m\($0)" }))
    }

    @Test func withoutAModelEveryRequestIsToldToRetry() {
        let replies = responder.answer([pending("ana", id: 4)], sessions: SessionStore(), model: nil, nowMs: 0)
        #expect(replies[0].error.code == .unavailable)
        #expect(replies[0].error.retryAfterMs > 0)
    }

    @Test func contextEventsAreCheckedAndNotStored() throws {
        let model = try ServiceFixtures.model()
        let sessions = SessionStore()
        var request = pending("ana", id: 9)
        var bad = Medley_V1_SessionEvent()
        bad.userID = "ana"
        bad.itemID = "m1"
        bad.domain = "music"
        bad.type = .unspecified
        bad.timestampMs = 1
        request = PendingRecommendation(ticket: 9, envelope: [[]], requestID: 9, request: {
            var r = request.request
            r.context = [bad]
            return r
        }())
        let refused = responder.answer([request], sessions: sessions, model: model, nowMs: ServiceFixtures.nowMs)[0]
        #expect(refused.error.code == .invalidArgument)
        #expect(refused.error.message.contains("context event 0"))

        bad.type = .like
        let good = PendingRecommendation(ticket: 9, envelope: [[]], requestID: 9, request: {
            var r = request.request
            r.context = [bad]
            return r
        }())
        let answered = responder.answer([good], sessions: sessions, model: model, nowMs: ServiceFixtures.nowMs)[0]
        #expect(answered.recommend.domains.first { $0.domain == "music" }!.items.allSatisfy { $0.itemID != "m1" })
        #expect(sessions.session(for: "ana") == nil)
    }
}

@Suite("Event types on the wire and in the model")
struct EventTypeAgreementTests {
    @Test func everyWireEventTypeIsAModelEventType() {
        #expect(Set(Medley_V1_EventType.byName.keys) == Set(MedleyModel.EventType.allCases.map(\.rawValue)))
        for (name, type) in Medley_V1_EventType.byName {
            let entry = SessionEntry(itemID: "i", domain: "news", type: type, timestampMs: 1)
            #expect(RecommendationResponder.modelEvent(entry)?.type.rawValue == name)
        }
        #expect(RecommendationResponder.modelEvent(SessionEntry(itemID: "i", domain: "news", type: .unspecified, timestampMs: 1)) == nil)
    }
}
