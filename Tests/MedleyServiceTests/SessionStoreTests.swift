import MedleyEventConversion
import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService

@Suite("Session store")
struct SessionStoreTests {
    private func entry(_ item: String, at ms: Int64, domain: String = "music") -> SessionEvent {
        SessionEvent(item: ItemReference(domain: domain, id: item), type: .play, timestampMilliseconds: ms)
    }

    @Test func eventsWithinTheGapShareASession() {
        let store = SessionStore(configuration: .init(sessionGapMilliseconds: 1000))
        store.append(entry("a", at: 0), userID: "u", nowMs: 0)
        store.append(entry("b", at: 1000), userID: "u", nowMs: 0)
        let session = store.session(for: "u")
        #expect(session?.events.map(\.item.id) == ["a", "b"])
        #expect(session?.history == [])
        #expect(session?.sessionID == "u@0")
    }

    @Test func aLongGapStartsANewSessionAndKeepsHistory() {
        let store = SessionStore(configuration: .init(sessionGapMilliseconds: 1000))
        store.append(entry("a", at: 0), userID: "u", nowMs: 0)
        store.append(entry("b", at: 500), userID: "u", nowMs: 0)
        store.append(entry("c", at: 1501), userID: "u", nowMs: 0)
        let session = store.session(for: "u")
        #expect(session?.events.map(\.item.id) == ["c"])
        #expect(session?.history.map(\.id) == ["a", "b"])
        #expect(session?.sessionID == "u@1501")
        #expect(session?.sessionCount == 2)
        #expect(session?.seenItems == Set(["a", "b", "c"].map { ItemReference(domain: "music", id: $0) }))
    }

    @Test func aClockRunningBackwardsStaysInTheSession() {
        let store = SessionStore(configuration: .init(sessionGapMilliseconds: 1000))
        store.append(entry("a", at: 10_000), userID: "u", nowMs: 0)
        store.append(entry("b", at: 2_000), userID: "u", nowMs: 0)
        store.append(entry("c", at: 10_500), userID: "u", nowMs: 0)
        #expect(store.session(for: "u")?.events.map(\.item.id) == ["a", "b", "c"])
    }

    @Test func aNewClientSessionIDStartsANewSession() {
        let store = SessionStore()
        store.append(entry("a", at: 0), userID: "u", clientSessionID: "s1", nowMs: 0)
        store.append(entry("b", at: 1), userID: "u", clientSessionID: "s1", nowMs: 0)
        store.append(entry("c", at: 2), userID: "u", clientSessionID: "s2", nowMs: 0)
        let session = store.session(for: "u")
        #expect(session?.sessionID == "s2")
        #expect(session?.events.map(\.item.id) == ["c"])
        #expect(session?.history.map(\.id) == ["a", "b"])
    }

    @Test func sessionsAndHistoryAreBounded() {
        let store = SessionStore(configuration: .init(maxSessionEvents: 3, maxHistoryItems: 4))
        for index in 0..<10 {
            store.append(entry("i\(index)", at: Int64(index)), userID: "u", nowMs: 0)
        }
        let session = store.session(for: "u")
        #expect(session?.events.map(\.item.id) == ["i7", "i8", "i9"])
        #expect(session?.history.map(\.id) == ["i3", "i4", "i5", "i6"])
    }

    @Test func theLeastRecentlyActiveUserIsEvictedAtTheCap() {
        let store = SessionStore(configuration: .init(maxUsers: 3))
        for user in ["a", "b", "c"] { store.append(entry("x", at: 0), userID: user, nowMs: 0) }
        // Touch "a" so that "b" becomes the least recently active.
        store.append(entry("y", at: 1), userID: "a", nowMs: 1)
        store.append(entry("x", at: 2), userID: "d", nowMs: 2)
        #expect(store.count == 3)
        #expect(store.session(for: "b") == nil)
        #expect(store.session(for: "a") != nil)
        #expect(store.evictedCount == 1)
    }

    @Test func idleUsersExpireByTheServiceClock() {
        let store = SessionStore(configuration: .init(idleExpiryMilliseconds: 100))
        store.append(entry("x", at: 0), userID: "old", nowMs: 0)
        store.append(entry("x", at: 0), userID: "recent", nowMs: 80)
        #expect(store.expireIdle(nowMs: 150) == 1)
        #expect(store.session(for: "old") == nil)
        #expect(store.session(for: "recent") != nil)
        #expect(store.expireIdle(nowMs: 150) == 0)
        #expect(store.expireIdle(nowMs: 181) == 1)
        #expect(store.count == 0)
        #expect(store.expiredCount == 2)
    }

    @Test func manyUsersChurnWithinTheCap() {
        let store = SessionStore(configuration: .init(maxUsers: 50))
        for index in 0..<5_000 {
            store.append(entry("i", at: Int64(index)), userID: "u\(index % 173)", nowMs: Int64(index))
            #expect(store.count <= 50)
        }
        // The 50 most recently active users are exactly the ones held.
        for index in 4_950..<5_000 {
            #expect(store.session(for: "u\(index % 173)") != nil)
        }
        store.remove("u\(4_999 % 173)")
        #expect(store.count == 49)
    }

    @Test func loggedRecordsCarryTheirFields() {
        var record = Medley_V1_EventLogRecord()
        record.sequence = 42
        record.event.userID = "u"
        record.event.itemID = "song"
        record.event.domain = "music"
        record.event.type = .skip
        record.event.timestampMs = 1_000
        record.event.dwellMs = 12
        record.event.weight = 0.5
        record.event.sessionID = "client-session"
        let store = SessionStore()
        store.apply(record, nowMs: 0)
        let session = store.session(for: "u")
        #expect(session?.sessionID == "client-session")
        #expect(session?.events == [SessionEvent(item: ItemReference(domain: "music", id: "song"), type: .skip, timestampMilliseconds: 1_000,
                                                 dwellMilliseconds: 12, weight: 0.5)])
        #expect(session?.lastSequence == 42)
    }
}
