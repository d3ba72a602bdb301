import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService

/// Sequential rules served through a worker's responder: rules anchored at the user's newest
/// item (`session_rules_anchor` = `newest_item`) start from the worker's remembered history
/// when the current session has no item the model knows, as the trainer fitted them.
@Suite("Serving sequential rules")
struct SequentialRulesServingTests {
    private let responder = RecommendationResponder(configuration: WorkerConfiguration(brokerEndpoint: "inproc://unused", name: "test"))

    /// The fixture model, with the rules m3 → v5 (strength 1) and m3 → n7 (0.5) at a weight
    /// that puts their targets first, anchored as given; or without rules.
    private func model(anchor: SequentialRulesAnchor?) throws -> MultitaskModel {
        var contents = try HotReloadFixtures.contents(version: 1)
        if let anchor {
            let row = { (domain: Int, id: String) in contents.catalog.row(domain: domain, id: id)! }
            var rules = SequentialRulesTable(sessions: [[row(2, "m3"), row(1, "v5"), row(0, "n7")]], itemCount: contents.catalog.count,
                                             steps: 2, anchor: anchor)
            rules.weight = 1000
            contents.sequentialRules = rules
        }
        return try MultitaskModel(contents)
    }

    private func sessionNext(_ model: MultitaskModel, _ sessions: SessionStore, nowMs: Int64) -> [String] {
        var request = Medley_V1_RecommendRequest()
        request.userID = "ana"
        request.k = 3
        let answered = responder.answer([PendingRecommendation(ticket: 1, requestID: 1, request: request)],
                                        sessions: sessions, model: model, nowMs: nowMs)[0]
        return ((try? Medley_V1_Reply(serializedBytes: answered.frame))?.recommend.sessionNext ?? []).map(\.itemID)
    }

    /// ana played m3, then, after a gap, an item the model does not know: the current session
    /// has no known item, and m3 is the newest item of her history.
    @Test func aSessionWithoutKnownItemsGetsTheRulesOfTheNewestHistoryItem() throws {
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        let gap = SessionConfiguration().sessionGapMilliseconds
        sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "m3"), type: .play, timestampMilliseconds: now - 2 * gap), userID: "ana", nowMs: now)
        sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "new-release"), type: .play, timestampMilliseconds: now), userID: "ana", nowMs: now)
        #expect(sessions.session(for: "ana")?.history.map(\.id) == ["m3"])

        #expect(sessionNext(try model(anchor: .newestItem), sessions, nowMs: now).prefix(2) == ["v5", "n7"])
        // Rules anchored at the session (a file written before the key) have nothing to start from.
        let unblended = sessionNext(try model(anchor: nil), sessions, nowMs: now)
        #expect(unblended.prefix(2) != ["v5", "n7"])
        #expect(sessionNext(try model(anchor: .session), sessions, nowMs: now) == unblended)

        // Once the session has a known item, both anchors start from it.
        sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "m3"), type: .play, timestampMilliseconds: now + 1), userID: "ana", nowMs: now)
        #expect(sessionNext(try model(anchor: .session), sessions, nowMs: now).prefix(2) == ["v5", "n7"])
    }
}
