import MedleyModel
import MedleySystem
import Testing

@testable import MedleyService

/// The session store keeps each session's events and history in rings; these tests hold it to
/// what the previous storage (arrays dropping their oldest elements) gave, on generated
/// sequences that wrap both rings many times and cross session gaps.
@Suite("Session storage in rings")
struct SessionStorageTests {
    /// The previous storage: arrays, the oldest elements removed from the front.
    private struct ArraySession {
        var events: [SessionEvent] = []
        var history: [ItemReference] = []
        var lastEventMs: Int64

        mutating func append(_ event: SessionEvent, configuration: SessionConfiguration) {
            if event.timestampMilliseconds - lastEventMs > configuration.sessionGapMilliseconds {
                history.append(contentsOf: events.map(\.item))
                events.removeAll()
            }
            events.append(event)
            if events.count > configuration.maxSessionEvents {
                let overflow = events.count - configuration.maxSessionEvents
                history.append(contentsOf: events.prefix(overflow).map(\.item))
                events.removeFirst(overflow)
            }
            if history.count > configuration.maxHistoryItems {
                history.removeFirst(history.count - configuration.maxHistoryItems)
            }
            lastEventMs = max(lastEventMs, event.timestampMilliseconds)
        }
    }

    /// Seeded, so that a failure can be replayed.
    private struct Generator {
        var random: SplitMix64
        mutating func next(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    }

    private func events(count: Int, seed: UInt64, gapMs: Int64) -> [SessionEvent] {
        var random = Generator(random: SplitMix64(seed: seed))
        let domains = ServiceFixtures.domains
        var time: Int64 = 1_000_000
        return (0..<count).map { _ in
            // About one step in 15 is a session gap; some steps go back in time.
            let roll = random.next(15)
            time += roll == 0 ? gapMs + 1 + Int64(random.next(1000)) : roll == 1 ? -Int64(random.next(50)) : Int64(random.next(2000))
            let domain = domains[random.next(domains.count)]
            let types: [EventType] = [.view, .click, .play, .complete, .like, .skip]
            return SessionEvent(item: ItemReference(domain: domain, id: "\(domain.prefix(1))\(random.next(24))"),
                                type: types[random.next(types.count)], timestampMilliseconds: time)
        }
    }

    @Test(arguments: [(1, 1), (3, 4), (5, 7), (7, 3)])
    func sessionsPastTheirBoundKeepTheNewestEventsInOrder(maxEvents: Int, maxHistory: Int) {
        let configuration = SessionConfiguration(sessionGapMilliseconds: 60_000, maxSessionEvents: maxEvents, maxHistoryItems: maxHistory)
        let store = SessionStore(configuration: configuration)
        let generated = events(count: 400, seed: UInt64(17 + maxEvents * 31 + maxHistory), gapMs: 60_000)
        var reference = ArraySession(lastEventMs: generated[0].timestampMilliseconds)
        for (step, event) in generated.enumerated() {
            store.append(event, userID: "u", nowMs: 0)
            reference.append(event, configuration: configuration)
            let session = store.session(for: "u")
            #expect(session?.events == reference.events, "step \(step)")
            #expect(session?.history == reference.history, "step \(step)")
        }
    }

    @Test func encodedInputsEqualThoseOfThePreviousStorage() throws {
        var contents = try HotReloadFixtures.contents(version: 1, itemsPerDomain: 20)
        contents.configuration.sessionEncoder = SessionEncoderShape(length: 6, blocks: 1, heads: 1, input: .history)
        let model = try MultitaskModel(try ModelFileContents.initialized(configuration: contents.configuration, catalog: contents.catalog,
                                                                         users: contents.users, seed: 5))
        let configuration = SessionConfiguration(sessionGapMilliseconds: 60_000, maxSessionEvents: 5, maxHistoryItems: 8)
        let store = SessionStore(configuration: configuration)
        let generated = events(count: 300, seed: 99, gapMs: 60_000)
        var reference = ArraySession(lastEventMs: generated[0].timestampMilliseconds)
        let context = ContextFeatures.encode(timestampMilliseconds: 2_000_000)
        func encoded(events: [SessionEvent], history: [ItemReference]) throws -> EncodedInput {
            try model.encode(ModelInput(userID: "u", events: events, history: history, context: context, excluded: history))
        }
        var distinct = Set<[Int]>()
        for (step, event) in generated.enumerated() {
            store.append(event, userID: "u", nowMs: 0)
            reference.append(event, configuration: configuration)
            let session = try #require(store.session(for: "u"))
            let ring = try encoded(events: session.events, history: session.history)
            #expect(ring == (try encoded(events: reference.events, history: reference.history)), "step \(step)")
            distinct.insert(ring.sequenceRows)
        }
        // The sequences change along the way: the comparison saw wrapped rings, not one state.
        #expect(distinct.count > 50)
    }
}
