import MedleyModel
import MedleyEventConversion
import Foundation
import MedleyProtocol
import Testing

@testable import MedleyService

/// models/README.md states the rules a reimplementation needs to reproduce served answers;
/// these tests hold the service to them and the document to the service's defaults.
@Suite("The serving rules models/README.md states")
struct ServingRulesDocumentTests {
    private static var modelsReadme: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("models/README.md"), encoding: .utf8)) ?? ""
    }

    @Test func theDocumentStatesTheDefaults() {
        let text = Self.modelsReadme
        let defaults = SessionConfiguration()
        #expect(text.contains("more than \(defaults.sessionGapMilliseconds / 60_000) minutes"))
        #expect(text.contains("exactly\n  \(defaults.sessionGapMilliseconds / 60_000) minutes keeps the session"))
        #expect(text.contains("newest \(defaults.maxSessionEvents) events"))
        #expect(text.contains("newest \(defaults.maxHistoryItems) items"))
        #expect(text.contains("for every user, known to the\n  model or not"))
        #expect(text.contains("join the session for this answer only"))
        #expect(text.contains("the blended list draws on all of them"))
    }

    @Test func aGapOfExactlyThirtyMinutesKeepsTheSession() {
        let store = SessionStore()
        let gap = SessionConfiguration().sessionGapMilliseconds
        store.append(SessionEvent(item: ItemReference(domain: "news", id: "a"), type: .view, timestampMilliseconds: 1_000), userID: "u", nowMs: 0)
        store.append(SessionEvent(item: ItemReference(domain: "news", id: "b"), type: .view, timestampMilliseconds: 1_000 + gap), userID: "u", nowMs: 0)
        #expect(store.session(for: "u")?.events.count == 2)
        store.append(SessionEvent(item: ItemReference(domain: "news", id: "c"), type: .view, timestampMilliseconds: 1_001 + 2 * gap), userID: "u", nowMs: 0)
        #expect(store.session(for: "u")?.events.map(\.item.id) == ["c"])
        #expect(store.session(for: "u")?.history.map(\.id) == ["a", "b"])
    }
}
