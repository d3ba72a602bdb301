import MedleyEventConversion
import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService

/// Ids are opaque bytes: canonically equivalent Unicode spellings are different ids
/// everywhere, whichever worker they reach.
@Suite("Ids compared by bytes")
struct OpaqueIDTests {
    /// Pairs that Swift's String equality calls equal (canonical equivalence).
    static let pairs = [("nfc-\u{E9}", "nfc-e\u{301}"), ("\u{C5}", "\u{212B}"), ("K", "\u{212A}")]

    @Test func theSpellingsAreEqualAsStringsButNotAsIDs() {
        for (a, b) in Self.pairs {
            #expect(a == b)
            #expect(OpaqueID(a) != OpaqueID(b))
            #expect(!a.isSameID(as: b))
        }
    }

    @Test func theSameBytesAreTheSameIDHoweverTheStringWasMade() {
        // Ids inside the key (up to 15 bytes) and on the heap, made from literals, bytes and slices.
        for id in ["", "u", "load-user-12345", "load-user-123456", String(repeating: "\u{E9}x", count: 30)] {
            let fromBytes = String(decoding: Array(id.utf8), as: UTF8.self)
            let fromSlice = String(("<" + id + ">").dropFirst().dropLast())
            for other in [fromBytes, fromSlice] {
                #expect(OpaqueID(id) == OpaqueID(other))
                #expect(OpaqueID(id).hashValue == OpaqueID(other).hashValue)
                #expect(Set([OpaqueID(id), OpaqueID(other)]).count == 1)
            }
            #expect(OpaqueID(id).bytes == Array(id.utf8))
            #expect(OpaqueID(id) != OpaqueID(id + "x"))
        }
        // Same length, one byte apart.
        #expect(OpaqueID("load-user-12345") != OpaqueID("load-user-12346"))
    }

    @Test func aWorkerKeepsTheirSessionsApart() {
        let store = SessionStore()
        for (index, (a, b)) in Self.pairs.enumerated() {
            store.append(SessionEvent(item: ItemReference(domain: "news", id: "a\(index)"), type: .view, timestampMilliseconds: 1), userID: a, nowMs: 0)
            store.append(SessionEvent(item: ItemReference(domain: "news", id: "b\(index)"), type: .view, timestampMilliseconds: 2), userID: b, nowMs: 0)
            #expect(store.session(for: a)?.events.map(\.item.id) == ["a\(index)"])
            #expect(store.session(for: b)?.events.map(\.item.id) == ["b\(index)"])
            store.remove(a)
            #expect(store.session(for: a) == nil)
            #expect(store.session(for: b) != nil)
        }
        #expect(store.count == 3)
    }

    @Test func aClientSessionIDInAnotherSpellingIsAnotherSession() {
        let store = SessionStore()
        store.append(SessionEvent(item: ItemReference(domain: "news", id: "x"), type: .view, timestampMilliseconds: 1), userID: "u", clientSessionID: "s-\u{C5}", nowMs: 0)
        store.append(SessionEvent(item: ItemReference(domain: "news", id: "y"), type: .view, timestampMilliseconds: 2), userID: "u", clientSessionID: "s-\u{212B}", nowMs: 0)
        #expect(store.session(for: "u")?.sessionCount == 2)
    }

    @Test func modelVocabulariesKeepThemApart() throws {
        let users = try UserVocabulary(ids: Self.pairs.flatMap { [$0.0, $0.1] })
        #expect(Set(Self.pairs.flatMap { [users.row(of: $0.0), users.row(of: $0.1)] }).count == 6)
        let catalog = try ItemCatalog(ids: ["\u{C5}", "\u{212B}"], domainOfItem: [0, 0], domainCount: 1)
        #expect(catalog.row(domain: 0, id: "\u{C5}") == 0)
        #expect(catalog.row(domain: 0, id: "\u{212B}") == 1)
        #expect(Set([ItemReference(domain: "news", id: "\u{C5}"), ItemReference(domain: "news", id: "\u{212B}")]).count == 2)
    }

    @Test func anIngestForOneSpellingDoesNotHoldTheOther() {
        for (a, b) in Self.pairs {
            var ordering = UserOrdering<Int>()
            #expect(UserOrdering<Int>.bucket(of: a) != UserOrdering<Int>.bucket(of: b))
            ordering.ingestStarted(userIDs: [a], ingest: 1)
            #expect(ordering.mustHold(a))
            #expect(!ordering.mustHold(b))
        }
    }

    @Test func equalIDsHashEquallyAndDifferentIDsStayApart() {
        // Ids that share bytes in another grouping ("ab" + "c" against "a" + "bc") and prefixes.
        let ids = ["", "a", "ab", "abc", "bc", "c", "user-1", "user-10", "user-1\u{0}", "nfc-\u{E9}", "nfc-e\u{301}"]
        for id in ids {
            #expect(OpaqueID(id).hashValue == OpaqueID(String(decoding: Array(id.utf8), as: UTF8.self)).hashValue)
        }
        var positions: [OpaqueID: Int] = [:]
        for (index, id) in ids.enumerated() { positions[OpaqueID(id)] = index }
        #expect(positions.count == ids.count)
        for (index, id) in ids.enumerated() { #expect(positions[OpaqueID(id)] == index) }
    }
}
