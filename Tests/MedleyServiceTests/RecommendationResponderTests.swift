import MedleyEventConversion
import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService

@Suite("Recommendation batches")
struct RecommendationResponderTests {
    private let responder = RecommendationResponder(configuration: WorkerConfiguration(brokerEndpoint: "inproc://unused", name: "test"))

    /// The responder's reply frames, decoded; each frame's error flag agrees with its body.
    private func answer(_ batch: [PendingRecommendation], sessions: SessionStore, model: MultitaskModel?, nowMs: Int64) -> [Medley_V1_Reply] {
        responder.answer(batch, sessions: sessions, model: model, nowMs: nowMs).map { answered in
            let reply = (try? Medley_V1_Reply(serializedBytes: answered.frame)) ?? Medley_V1_Reply()
            let isError = if case .error = reply.body { true } else { false }
            #expect(answered.isError == isError && reply.body != nil, "\(reply)")
            return reply
        }
    }

    private func pending(_ user: String, id: UInt64, k: UInt32 = 5, domains: [String] = []) -> PendingRecommendation {
        var request = Medley_V1_RecommendRequest()
        request.userID = user
        request.k = k
        request.domains = domains
        request.includeScores = true
        return PendingRecommendation(ticket: id, requestID: id, request: request)
    }

    @Test func aBatchAnswersLikeSingleRequestsAndIsolatesBadOnes() throws {
        let model = try ServiceFixtures.model(users: ["known-user"])
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        for (index, item) in ["m1", "m2", "v3"].enumerated() {
            sessions.append(SessionEvent(item: ItemReference(domain: item.hasPrefix("m") ? "music" : "video", id: item), type: .play, timestampMilliseconds: now + Int64(index)), userID: "ana", nowMs: now)
        }
        sessions.append(SessionEvent(item: ItemReference(domain: "news", id: "n4"), type: .view, timestampMilliseconds: now), userID: "known-user", nowMs: now)

        let batch = [pending("ana", id: 1), pending("bob", id: 2, domains: ["podcasts"]), pending("known-user", id: 3, k: 2)]
        let together = answer(batch, sessions: sessions, model: model, nowMs: now)
        #expect(together.map(\.requestID) == [1, 2, 3])
        #expect(together[1].error.code == .unknownDomain)
        let alone = [batch[0], batch[2]].map { answer([$0], sessions: sessions, model: model, nowMs: now)[0] }
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
        let empty = answer([pending("ana", id: 1)], sessions: sessions, model: model, nowMs: now)[0]
        for index in 0..<5 {
            sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "m\(index)"), type: .complete, timestampMilliseconds: now + Int64(index)), userID: "ana", nowMs: now)
        }
        let withSession = answer([pending("ana", id: 1)], sessions: sessions, model: model, nowMs: now)[0]
        #expect(empty.recommend.nextDomainProbability != withSession.recommend.nextDomainProbability)
        let music = withSession.recommend.domains.first { $0.domain == "music" }!.items.map(\.itemID)
        #expect(Set(music).isDisjoint(with: (0..<5).map { "m\($0)" }))
    }

    @Test func aModelThatScoresNaNGetsAnErrorNotEmptyLists() throws {
        // Built directly, as a library user could, so verification never saw it.
        var contents = try HotReloadFixtures.contents(version: 1)
        contents.parameters.tensors["encoder.layers.0.bias"]!.scalars = contents.parameters["encoder.layers.0.bias"].scalars.map { _ in 3e38 }
        let model = try MultitaskModel(contents)
        #expect(throws: ModelServabilityProblem.self) { try ModelServability.check(model) }
        let reply = answer([pending("ana", id: 5)], sessions: SessionStore(), model: model, nowMs: ServiceFixtures.nowMs)[0]
        #expect(reply.error.code == .internal)
        #expect(reply.error.message.contains("cannot answer"))
    }

    @Test func listsAreShortOnlyWhereExclusionsLeaveTooFewItems() throws {
        let model = try ServiceFixtures.model(itemsPerDomain: 4)
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        for index in 0..<3 {
            sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "m\(index)"), type: .play, timestampMilliseconds: now + Int64(index)), userID: "ana", nowMs: now)
        }
        let reply = answer([pending("ana", id: 6, k: 3)], sessions: sessions, model: model, nowMs: now)[0]
        #expect(reply.recommend.domains.map(\.items.count) == [3, 3, 1])
        #expect(reply.recommend.sessionNext.count == 3)
        #expect(reply.recommend.blended.count == 3)
    }

    @Test func anEventsOwnWeightOverridesItsTypesWeight() throws {
        let model = try ServiceFixtures.model()
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        var events: [Medley_V1_SessionEvent] = []
        for (offset, item) in ["m1", "v2", "n3"].enumerated() {
            events.append(ServiceFixtures.event(user: "typed", item: item, domain: item.hasPrefix("m") ? "music" : item.hasPrefix("v") ? "video" : "news", at: now + Int64(offset)))
        }
        for event in events { sessions.append(SessionEvent(event)!, userID: "typed", nowMs: now) }
        for (index, var event) in events.enumerated() {
            event.userID = "weighted"
            // play weighs 1.5; these make the music event dominate the session vector.
            event.weight = index == 0 ? 50 : 0
            sessions.append(SessionEvent(event)!, userID: "weighted", nowMs: now)
        }
        let replies = answer([pending("typed", id: 1), pending("weighted", id: 2)], sessions: sessions, model: model, nowMs: now)
        #expect(replies[0].recommend.nextDomainProbability != replies[1].recommend.nextDomainProbability)
        // The same weights given as the types' own give the typed answer back.
        var input = try model.encode(ModelInput(events: events.compactMap { SessionEvent($0) }, context: ContextFeatures.encode(timestampMilliseconds: now)))
        let typed = input.sessionWeights
        input = try model.encode(ModelInput(events: events.compactMap { event in
            var weighted = event
            weighted.weight = 1.5
            return SessionEvent(weighted)
        }, context: ContextFeatures.encode(timestampMilliseconds: now)))
        #expect(input.sessionWeights == typed)
    }

    @Test func aSessionOtherThanTheCurrentOneIsNotFound() throws {
        let model = try ServiceFixtures.model()
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "m1"), type: .play, timestampMilliseconds: now - 3_600_000), userID: "ana", nowMs: now)
        let earlier = try #require(sessions.session(for: "ana")).sessionID
        sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "m2"), type: .play, timestampMilliseconds: now), userID: "ana", nowMs: now)
        let current = try #require(sessions.session(for: "ana")).sessionID
        #expect(earlier != current)
        func ask(_ user: String, session: String) -> Medley_V1_Reply {
            var request = pending(user, id: 7)
            request = PendingRecommendation(ticket: 7, requestID: 7, request: { var r = request.request; r.sessionID = session; return r }())
            return answer([request], sessions: sessions, model: model, nowMs: now)[0]
        }
        for (user, session) in [("ana", "no-such-session"), ("ana", earlier), ("nobody", current)] {
            let reply = ask(user, session: session)
            #expect(reply.error.code == .notFound, "\(user) \(session)")
        }
        let answered = ask("ana", session: current)
        #expect(answered.recommend.sessionID == current)
        #expect(answered.recommend.domains.first { $0.domain == "music" }!.items.allSatisfy { !["m1", "m2"].contains($0.itemID) })
    }

    @Test func idsOverTheProtocolLimitAreRefusedAsInIngest() throws {
        let model = try ServiceFixtures.model()
        let now = ServiceFixtures.nowMs
        let long = String(repeating: "é", count: 129)  // 258 bytes
        var sessionRequest = pending("ana", id: 8).request
        sessionRequest.sessionID = String(repeating: "s", count: 100_000)
        var contextRequest = pending("ana", id: 9).request
        contextRequest.context = [ServiceFixtures.event(user: "ana", item: long, domain: "music", at: now)]
        let replies = answer([pending(long, id: 7),
                                        PendingRecommendation(ticket: 8, requestID: 8, request: sessionRequest),
                                        PendingRecommendation(ticket: 9, requestID: 9, request: contextRequest),
                                        pending(String(repeating: "u", count: 256), id: 10)],
                                       sessions: SessionStore(), model: model, nowMs: now)
        #expect(replies[0].error.code == .invalidArgument)
        #expect(replies[0].error.message.contains("user_id is 258 bytes; at most 256"))
        #expect(replies[1].error.message.contains("session_id is 100000 bytes; at most 256"))
        #expect(replies[2].error.message.contains("item_id is 258 bytes; at most 256"))
        #expect(replies[3].recommend.domains.count == 3)
    }

    @Test func aRequestTimeMakesTheAnswerReproducible() throws {
        let model = try ServiceFixtures.model()
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "m1"), type: .play, timestampMilliseconds: now), userID: "ana", nowMs: now)
        var request = pending("ana", id: 3).request
        request.requestTimeMs = now - 5 * 3_600_000
        let asked = PendingRecommendation(ticket: 3, requestID: 3, request: request)
        let first = answer([asked], sessions: sessions, model: model, nowMs: now)[0]
        let later = answer([asked], sessions: sessions, model: model, nowMs: now + 11 * 3_600_000)[0]
        #expect(first.recommend.requestTimeMs == request.requestTimeMs)
        #expect(first.recommend == later.recommend)
        // Without one, the reply says which time the service used; it changes the context.
        let unset = answer([pending("ana", id: 3)], sessions: sessions, model: model, nowMs: now)[0]
        #expect(unset.recommend.requestTimeMs == now)
        #expect(unset.recommend.nextDomainProbability != first.recommend.nextDomainProbability)
        request.requestTimeMs = -1
        let refused = answer([PendingRecommendation(ticket: 3, requestID: 3, request: request)], sessions: sessions, model: model, nowMs: now)[0]
        #expect(refused.error.code == .invalidArgument)
    }

    @Test func withoutAModelEveryRequestIsToldToRetry() {
        let replies = answer([pending("ana", id: 4)], sessions: SessionStore(), model: nil, nowMs: 0)
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
        request = PendingRecommendation(ticket: 9, requestID: 9, request: {
            var r = request.request
            r.context = [bad]
            return r
        }())
        let refused = answer([request], sessions: sessions, model: model, nowMs: ServiceFixtures.nowMs)[0]
        #expect(refused.error.code == .invalidArgument)
        #expect(refused.error.message.contains("context event 0"))

        bad.type = .like
        let good = PendingRecommendation(ticket: 9, requestID: 9, request: {
            var r = request.request
            r.context = [bad]
            return r
        }())
        let answered = answer([good], sessions: sessions, model: model, nowMs: ServiceFixtures.nowMs)[0]
        #expect(answered.recommend.domains.first { $0.domain == "music" }!.items.allSatisfy { $0.itemID != "m1" })
        #expect(sessions.session(for: "ana") == nil)
    }
}

@Suite("Event types on the wire and in the model")
struct EventTypeAgreementTests {
    @Test func everyWireEventTypeIsAModelEventType() {
        #expect(Set(Medley_V1_EventType.byName.keys) == Set(MedleyModel.EventType.allCases.map(\.rawValue)))
        for (name, type) in Medley_V1_EventType.byName {
            let event = Medley_V1_SessionEvent.with { $0.itemID = "i"; $0.domain = "news"; $0.type = type; $0.timestampMs = 1 }
            #expect(SessionEvent(event)?.type.rawValue == name)
        }
        #expect(SessionEvent(Medley_V1_SessionEvent.with { $0.itemID = "i"; $0.domain = "news"; $0.type = .unspecified }) == nil)
        #expect(SessionEvent(Medley_V1_SessionEvent.with { $0.itemID = "i"; $0.domain = "news"; $0.type = .UNRECOGNIZED(42) }) == nil)
    }
}
