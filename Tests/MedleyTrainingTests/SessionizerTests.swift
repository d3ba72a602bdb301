import MedleyProtocol
import MedleyTraining
import Testing

@Suite struct SessionizerTests {
    func row(_ user: String, _ item: String, _ time: Int64, _ order: Int, rating: Double = 4) -> Interaction {
        Interaction(user: user, item: item, rating: rating, timestamp: time, order: order)
    }

    @Test func tiesKeepFileOrderAndGapsCutSessions() {
        let rows = [
            row("a", "x", 10_000, 0),
            row("b", "p", 50, 1),
            row("a", "z", 10_000 + 1800, 2),        // exactly the gap: same session
            row("a", "y", 10_000, 3),               // ties with x, later in the file
            row("a", "w", 10_000 + 1800 + 1801, 4), // more than the gap: new session
            row("a", "v", 10, 5),                   // earlier than everything: its own session
        ]
        let sessions = Sessionizer.sessions(of: rows)
        #expect(sessions.map(\.user) == ["a", "b"])
        #expect(sessions[0].sessions.map { $0.map(\.item) } == [["v"], ["x", "y", "z"], ["w"]])
        #expect(sessions[1].sessions.map { $0.map(\.item) } == [["p"]])
    }

    @Test func gapIsConfigurable() {
        let rows = [row("a", "x", 0, 0), row("a", "y", 61, 1), row("a", "z", 100, 2)]
        #expect(Sessionizer.sessions(of: rows, gapSeconds: 60)[0].sessions.map(\.count) == [1, 2])
        #expect(Sessionizer.cut(timestamps: [0, 61, 100], gap: 60) == [0..<1, 1..<3])
        #expect(Sessionizer.cut(timestamps: [], gap: 60).isEmpty)
    }

    @Test func importConvertsToOrderedEventsWithSessionIDs() {
        let dataset = MovieLensDataset(
            name: "t",
            interactions: [
                row("u1", "Doc", 1000, 0, rating: 5),
                row("u2", "Song", 900, 1, rating: 1),
                row("u1", "Film", 1000, 2, rating: 3),
                row("u1", "Lost", 9000, 3, rating: 4),
            ],
            itemGenres: ["Doc": ["Documentary"], "Song": ["Musical", "Comedy"], "Film": ["Comedy"]])
        let result = MovieLensImport.convert(dataset)
        let events = result.events
        #expect(events.map(\.itemID) == ["Song", "Doc", "Film", "Lost"])
        #expect(events.map(\.domain) == ["music", "news", "video", "video"])
        #expect(events.map(\.type) == [.dislike, .like, .play, .complete])
        #expect(events.map(\.sessionID) == ["u2-1", "u1-1", "u1-1", "u1-2"])
        #expect(events.map(\.timestampMs) == [900_000, 1_000_000, 1_000_000, 9_000_000])
        #expect(result.summary.sessions == 3)
        #expect(result.summary.users == 2)
        #expect(result.summary.items == 4)
        #expect(result.summary.itemsWithoutGenres == 1)
        #expect(result.summary.eventsByDomain == ["music": 1, "news": 1, "video": 2])
        #expect(result.summary.eventsByType["like"] == 1)
    }

    @Test func sequenceDatasetGroupsItemsByDomain() {
        let rows = [row("u1", "Film", 5, 0), row("u1", "Doc", 5, 1), row("u2", "Song", 1, 2), row("u1", "Doc2", 1, 3)]
        let domains = ["Film": "video", "Doc": "news", "Doc2": "news", "Song": "music"]
        let data = SequenceDataset(interactions: rows, itemDomains: domains)
        #expect(data.domains == ["news", "video", "music"])
        #expect(data.itemIDs == ["Doc", "Doc2", "Film", "Song"])
        #expect(data.domainRanges == [0..<2, 2..<3, 3..<4])
        #expect(data.userIDs == ["u1", "u2"])
        #expect(data.sequences == [[1, 2, 0], [3]])   // Doc2 (t=1), then Film and Doc tied at t=5 in file order
        #expect(data.timestamps[0] == [1000, 5000, 5000])
    }
}
