import MedleyEventConversion
import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService

/// A model whose session attention reads the user's history (`attention_input` = `history`):
/// the worker feeds it the user's remembered items of earlier sessions, then the current
/// session's, so a request right after a session gap still has the user's recent items.
@Suite("Serving a session attention that reads the history")
struct HistoryAttentionServingTests {
    private let responder = RecommendationResponder(configuration: WorkerConfiguration(brokerEndpoint: "inproc://unused", name: "test"))

    private func model(_ input: AttentionSequence, length: Int) throws -> MultitaskModel {
        var contents = try HotReloadFixtures.contents(version: 1)
        contents.configuration.sessionEncoder = SessionEncoderShape(length: length, blocks: 1, heads: 1, input: input)
        return try MultitaskModel(try ModelFileContents.initialized(configuration: contents.configuration, catalog: contents.catalog,
                                                                    users: contents.users, seed: 3))
    }

    private func request(_ user: String) -> Medley_V1_RecommendRequest {
        var request = Medley_V1_RecommendRequest()
        request.userID = user
        request.k = 5
        return request
    }

    private func sequence(_ model: MultitaskModel, _ sessions: SessionStore, nowMs: Int64) throws -> [String] {
        let validator = IngestValidator(domains: Set(model.configuration.domains))
        guard case .success(let prepared) = responder.prepare(request("ana"), sessions: sessions, model: model, validator: validator, nowMs: nowMs) else {
            Issue.record("the request was refused")
            return []
        }
        return prepared.input.sequenceRows.map { model.catalog.ids[$0] }
    }

    @Test func theSequenceCrossesTheSessionGap() throws {
        let sessions = SessionStore()
        let now = ServiceFixtures.nowMs
        let gap = SessionConfiguration().sessionGapMilliseconds
        let first = now - 3 * gap
        for (index, item) in ["m1", "v2", "m3"].enumerated() {
            sessions.append(SessionEvent(item: ItemReference(domain: item.hasPrefix("m") ? "music" : "video", id: item), type: .play, timestampMilliseconds: first + Int64(index)), userID: "ana", nowMs: now)
        }
        // An item the model does not know is remembered but not read.
        sessions.append(SessionEvent(item: ItemReference(domain: "music", id: "gone"), type: .play, timestampMilliseconds: first + 3), userID: "ana", nowMs: now)
        sessions.append(SessionEvent(item: ItemReference(domain: "video", id: "v7"), type: .play, timestampMilliseconds: now), userID: "ana", nowMs: now)
        #expect(sessions.session(for: "ana")?.history.map(\.id) == ["m1", "v2", "m3", "gone"])

        #expect(try sequence(model(.history, length: 50), sessions, nowMs: now) == ["m1", "v2", "m3", "v7"])
        #expect(try sequence(model(.history, length: 3), sessions, nowMs: now) == ["v2", "m3", "v7"])
        #expect(try sequence(model(.session, length: 50), sessions, nowMs: now) == ["v7"])
    }
}
