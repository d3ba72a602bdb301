import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining

@Suite struct ExampleBuilderTests {
    typealias F = TrainerFixtures

    /// Two users, interleaved in log order; alice has a 40-minute gap (a new session) and an
    /// event of a domain the model does not have.
    private var stream: [Medley_V1_SessionEvent] {
        [
            F.event("alice", "music", "m1", at: 0),
            F.event("bob", "video", "v1", at: 1 * F.minute),
            F.event("alice", "video", "v1", at: 2 * F.minute, type: .like),
            F.event("alice", "podcasts", "p1", at: 3 * F.minute),
            F.event("bob", "video", "v2", at: 4 * F.minute),
            F.event("alice", "music", "m2", at: 5 * F.minute, type: .skip),
            F.event("alice", "music", "m3", at: 45 * F.minute),
            F.event("bob", "music", "m1", at: 46 * F.minute),
        ]
    }

    @Test func vocabularySessionsAndExamples() throws {
        var configuration = F.configuration()
        configuration.validation = .lastEventsPerUser(1)
        let data = try TrainingData(events: stream, configuration: configuration)
        // Items contiguous by domain (video block, then music), each in first-appearance order.
        #expect(data.catalog.ids == ["v1", "v2", "m1", "m2", "m3"])
        #expect(data.catalog.domainRanges == [0..<2, 2..<5])
        #expect(data.users.ids == ["alice", "bob"])
        #expect(data.statistics.dropped.unknownDomain == 1)
        // alice: m1 v1 m2 | m3 (two sessions); bob: v1 v2 | m1 (42 minutes apart).
        #expect(data.statistics.sessions == 4)
        // Every event but each user's first is a target; each user's last is held out.
        #expect(data.statistics.trainingExamples == 2 + 1)
        #expect(data.statistics.validationExamples == 2)
        let targets = data.trainingExamples.map { data.catalog.ids[data.target($0).row] }
        #expect(targets == ["v1", "m2", "v2"])
        // m3 starts a session: its example has an empty session but alice's user vector.
        let m3 = try #require(data.validationExamples.first { data.catalog.ids[data.target($0).row] == "m3" })
        let input = data.encodedInput(m3)
        #expect(input.userRow == 0)
        #expect(input.sessionRows.isEmpty)
        #expect(input.lastItemRows == [nil, nil])
    }

    @Test func idsThatDifferInBytesAreDifferentUsersAndItems() throws {
        // Canonically equivalent spellings: equal as Swift strings, different ids on the wire.
        let events = [
            F.event("\u{C5}", "music", "K", at: 0),
            F.event("\u{212B}", "music", "\u{212A}", at: 1 * F.minute),
            F.event("\u{C5}", "video", "v1", at: 2 * F.minute),
            F.event("\u{212B}", "video", "v1", at: 3 * F.minute),
        ]
        let data = try TrainingData(events: events, configuration: F.configuration())
        #expect(data.users.ids.map { Array($0.utf8) } == [Array("\u{C5}".utf8), Array("\u{212B}".utf8)])
        #expect(data.catalog.ids.map { Array($0.utf8) } == [Array("v1".utf8), Array("K".utf8), Array("\u{212A}".utf8)])
    }

    @Test func timeFractionHoldsOutTheLatestEvents() throws {
        var configuration = F.configuration()
        configuration.validation = .timeFraction(0.25)
        let data = try TrainingData(events: stream, configuration: configuration)
        let held = data.validationExamples.map { data.table.timestamps[Int($0.target)] }
        #expect(Set(held) == [45 * F.minute, 46 * F.minute])
        #expect(data.trainingExamples.allSatisfy { data.table.timestamps[Int($0.target)] < 45 * F.minute })
    }

    /// The trainer's input for an example is exactly what the serving model makes from the same
    /// history: weights by type and recency, slots newest first, context of the request time,
    /// the session attention's sequence (the session's, or the user's across the gap), and the
    /// newest history item, where rules anchored at the user's newest item start after a gap.
    @Test(arguments: [nil, SessionEncoderShape(length: 2, blocks: 1, heads: 1, input: .session),
                      SessionEncoderShape(length: 2, blocks: 1, heads: 1, input: .history),
                      SessionEncoderShape(length: 8, blocks: 1, heads: 1, input: .history)])
    func trainingInputsMatchTheServingEncoder(attention: SessionEncoderShape?) throws {
        var configuration = F.configuration()
        configuration.model.sessionEncoder = attention
        let data = try TrainingData(events: stream, configuration: configuration)
        let contents = try ModelFileContents.initialized(configuration: configuration.model, catalog: data.catalog,
                                                         users: data.users, seed: 1)
        let model = try MultitaskModel(contents)
        for example in data.trainingExamples {
            let target = Int(example.target)
            let user = data.users.ids[Int(data.table.userRows[target])]
            let history = stream.filter { $0.userID == user && $0.timestampMs < data.table.timestamps[target] }
            let input = model.input(forUser: user, history: history, requestTimeMilliseconds: data.table.timestamps[target],
                                    rules: SessionRules(configuration: configuration))
            var served = try model.encode(input)
            served.excludedRows = []
            #expect(served == data.encodedInput(example))
        }
        // alice's m3 opens a session: only an encoder reading the history has input for it.
        let m3 = try #require(data.trainingExamples.first { data.catalog.ids[data.target($0).row] == "m3" })
        let sequence = data.encodedInput(m3).sequenceRows.map { data.catalog.ids[$0] }
        switch attention?.input {
        case nil, .session?: #expect(sequence.isEmpty)
        case .history?: #expect(sequence == Array(["m1", "v1", "m2"].suffix(attention!.length)))
        }
        // Its sequential rules start from alice's newest item, m2, before the gap, or (anchored
        // at the session) from nothing; an example inside a session starts from its newest item.
        let m3Input = data.encodedInput(m3)
        let ids = { (rows: [Int]) in rows.map { data.catalog.ids[$0] } }
        #expect(ids(m3Input.recentHistoryRows) == ["m2", "v1", "m1"])
        #expect(ids(SequentialRulesAnchor.newestItem.rows(for: m3Input, depth: 1)) == ["m2"])
        #expect(ids(SequentialRulesAnchor.newestItem.rows(for: m3Input, depth: 2)) == ["m2", "v1"])
        #expect(SequentialRulesAnchor.session.rows(for: m3Input, depth: 2).isEmpty)
        let v1 = try #require(data.trainingExamples.first { data.catalog.ids[data.target($0).row] == "v1" })
        #expect(data.encodedInput(v1).recentHistoryRows.isEmpty)
        #expect(ids(SequentialRulesAnchor.newestItem.rows(for: data.encodedInput(v1), depth: 3)) == ["m1"])
    }

    @Test func refusesStreamsWithoutExamples() {
        let single = [F.event("alice", "music", "m1", at: 0), F.event("bob", "music", "m1", at: 0)]
        #expect(throws: TrainingError.noTrainingExamples) { try TrainingData(events: single, configuration: F.configuration()) }
        let unusable = [F.event("alice", "music", "m1", at: 0, type: .unspecified)]
        #expect(throws: TrainingError.noUsableEvents) { try TrainingData(events: unusable, configuration: F.configuration()) }
        var bad = F.configuration()
        bad.batchSize = 0
        #expect(throws: TrainingError.self) { try TrainingData(events: stream, configuration: bad) }
    }
}
