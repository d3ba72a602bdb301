import Foundation
import MedleyEvaluation
import MedleyTraining
import Testing

@Suite struct PublishedProtocolTests {
    func rows(_ pairs: [(String, String)], rating: Double = 4) -> [Interaction] {
        pairs.enumerated().map { Interaction(user: $1.0, item: $1.1, rating: rating, timestamp: Int64($0), order: $0) }
    }

    /// A 2-core where one pass is not enough: dropping user c (1 row) leaves item z with one
    /// user, dropping z leaves user b with one row, dropping b leaves item y with one row.
    @Test func kCoreRepeatsUntilStable() {
        let data = rows([("a", "x"), ("a", "y"), ("b", "y"), ("b", "z"), ("c", "z"), ("d", "x"), ("d", "w"), ("a", "w")])
        // Pass 1: c has 1 → dropped. Pass 2: z has 1 (b) → dropped. Pass 3: b has 1 (y) → dropped.
        // Pass 4: y has 1 (a) → dropped. Then a: x, w; d: x, w; x: a, d; w: d, a. Stable.
        let kept = PublishedProtocol.kCore(data, minimumCount: 2)
        #expect(kept.map { "\($0.user)\($0.item)" } == ["ax", "dx", "dw", "aw"])
        // One pass only would have kept (a, y), (b, y), (b, z).
        #expect(PublishedProtocol.kCore(kept, minimumCount: 2) == kept)
        #expect(PublishedProtocol.kCore(data, minimumCount: 3).isEmpty)
    }

    @Test func ratingFilterComesBeforeTheCore() {
        var data = rows([("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")])
        data[3].rating = 2
        // Without (b, y): b and y have one row each, so (b, x) and (a, y) go; then a and x have
        // one row each, so (a, x) goes too.
        let kept = PublishedProtocol.filter(data, minimumRating: 3, coreSize: 2)
        #expect(kept.isEmpty)
        #expect(PublishedProtocol.filter(data, minimumRating: nil, coreSize: 2).count == 4)
    }

    @Test func leaveOneOutSplitsByTimeWithTiesInFileOrder() {
        // User u: items in file order with timestamps; i2 and i3 tie at 5.
        let data = [
            Interaction(user: "u", item: "i1", rating: 5, timestamp: 1, order: 0),
            Interaction(user: "u", item: "i3", rating: 5, timestamp: 5, order: 1),
            Interaction(user: "u", item: "i2", rating: 5, timestamp: 5, order: 2),
            Interaction(user: "u", item: "i4", rating: 5, timestamp: 9, order: 3),
            Interaction(user: "u", item: "i0", rating: 5, timestamp: 0, order: 4),
        ]
        let split = PublishedProtocol.split(data, minimumRating: 3, coreSize: 1)
        let ids = split.dataset.itemIDs
        #expect(split.dataset.sequences[0].map { ids[$0] } == ["i0", "i1", "i3", "i2", "i4"])
        #expect(split.training.sequences[0].map { ids[$0] } == ["i0", "i1", "i3"])
        let test = split.query(user: 0, target: .test)
        #expect(test.targetPosition == 4)
        #expect(test.history.map { ids[$0] } == ["i0", "i1", "i3", "i2"])
        let validation = split.query(user: 0, target: .validation, historyLength: 2)
        #expect(validation.targetPosition == 3)
        #expect(validation.history.map { ids[$0] } == ["i1", "i3"])
    }

    @Test func historyIsTheLastFiftyItems() {
        let data = (0..<60).map { Interaction(user: "u", item: "i\($0)", rating: 4, timestamp: Int64($0), order: $0) }
        let split = PublishedProtocol.split(data, coreSize: 1)
        let query = split.query(user: 0, target: .test)
        #expect(query.history.count == 50)
        #expect(query.history.first == 9 && query.history.last == 58)
    }

    static let dataDirectory: String = ProcessInfo.processInfo.environment["MEDLEY_DATA_DIR"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data").path
    static let hasML1M = FileManager.default.fileExists(atPath: "\(dataDirectory)/ml-1m/ml-1m.inter")

    @Test(.enabled(if: hasML1M, "MovieLens-1M not found: run scripts/fetch-movielens.sh (or set MEDLEY_DATA_DIR)"))
    func movieLens1MLeaves834449Interactions() throws {
        let data = try MovieLensDataset.load(directory: "\(Self.dataDirectory)/ml-1m")
        #expect(data.interactions.count == 1_000_209)
        let kept = PublishedProtocol.filter(data.interactions)
        #expect(kept.count == 834_449)
        #expect(Set(kept.map(\.user)).count == 6_033)
        #expect(Set(kept.map(\.item)).count == 3_123)
        // Every item of the interaction file has genres, and every genre is listed by the mapping.
        let summary = MovieLensImport.convert(data).summary
        #expect(summary.itemsWithoutGenres == 0)
        #expect(summary.unlistedGenres.isEmpty)
        #expect(summary.eventsByDomain.keys.sorted() == ["music", "news", "video"])
    }

    static let hasML100K = FileManager.default.fileExists(atPath: "\(dataDirectory)/ml-100k/ml-100k.inter")

    @Test(.enabled(if: hasML100K, "MovieLens-100K not found: run scripts/fetch-movielens.sh (or set MEDLEY_DATA_DIR)"))
    func movieLens100KLoadsWithGenres() throws {
        let data = try MovieLensDataset.load(directory: "\(Self.dataDirectory)/ml-100k")
        #expect(data.interactions.count == 100_000)
        #expect(data.itemGenres.count == 1_682)
        let summary = MovieLensImport.convert(data).summary
        #expect(summary.users == 943)
        #expect(summary.itemsWithoutGenres == 0)
        #expect(summary.unlistedGenres.isEmpty)
    }
}
