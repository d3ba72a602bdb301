import MedleyEvaluation
import MedleyTraining
import Testing

/// Baselines on hand-made data whose answers can be worked out on paper.
@Suite struct BaselineTests {
    /// Items 0-1 news, 2-3 video, 4 music; three users.
    func dataset() -> SequenceDataset {
        let entries: [(String, String, String, Int64)] = [
            ("u1", "n0", "news", 1), ("u1", "v2", "video", 2), ("u1", "n1", "news", 3),
            ("u2", "n0", "news", 1), ("u2", "v2", "video", 2),
            ("u3", "v3", "video", 1), ("u3", "m4", "music", 2), ("u3", "v2", "video", 3),
        ]
        return SequenceDataset(entries: entries.map {
            SequenceDataset.Entry(user: $0.0, item: $0.1, domain: $0.2, timestampMilliseconds: $0.3, type: .play)
        })
    }

    @Test func popularityCountsTrainingOccurrences() {
        let data = dataset()
        #expect(data.itemIDs == ["n0", "n1", "v2", "v3", "m4"])
        let training = TrainingSequences(dataset: data, trainingLength: data.sequences.map(\.count))
        let global = PopularityScorer(training: training)
        #expect(global.scores(forHistory: [], user: 0) == [2, 1, 3, 1, 1])
        let byDomain = PopularityScorer(training: training, scope: .lastItemDomain)
        // Last item news: the news items first (offset max + 1 = 4), each domain by count.
        #expect(byDomain.scores(forHistory: [2, 0], user: 0) == [6, 5, 3, 1, 1])
        #expect(byDomain.scores(forHistory: [], user: 0) == [2, 1, 3, 1, 1])
    }

    @Test func sequentialRulesWeighByDistanceWithinTheWindow() {
        // a=0 b=1 c=2 d=3; session a b a c d with steps 2.
        let sessions = [TrainingSession(items: [0, 1, 0, 2, 3], lastTimestamp: 0)]
        let rules = SequentialRulesScorer(sessions: sessions, itemCount: 4, configuration: .init(steps: 2))
        // From a: b at distance 1 (pos 0→1); c at 1 (pos 2→3); a→a skipped; c at 2 from... pos 1 is b.
        // a(0)→b(1) 1, a(0)→a(2) skipped, a(2)→c(3) 1, a(2)→d(4) 1/2.
        #expect(rules.scores(forHistory: [0], user: 0) == [0, 1, 1, 0.5])
        // b(1)→a(2) 1, b(1)→c(3) 1/2.
        #expect(rules.scores(forHistory: [3, 1], user: 0) == [1, 0, 0.5, 0])
        #expect(rules.scores(forHistory: [], user: 0) == [0, 0, 0, 0])
        #expect(rules.rules(from: 2).map(\.item) == [3])
        let pruned = SequentialRulesScorer(sessions: sessions, itemCount: 4, configuration: .init(steps: 2, rulesPerItem: 1))
        #expect(pruned.rules(from: 0).map(\.item) == [1])   // ties at 1 keep the lower index
    }

    @Test func sessionKNNWeighsRecentItemsAndSumsNeighbourSimilarities() {
        // Current session [0, 1]: item 0 weighs 1/2, item 1 weighs 1.
        let sessions = [
            TrainingSession(items: [0, 5], lastTimestamp: 30),     // sim 0.5
            TrainingSession(items: [1, 6], lastTimestamp: 20),     // sim 1
            TrainingSession(items: [0, 1, 6, 7], lastTimestamp: 10), // sim 1.5
            TrainingSession(items: [8], lastTimestamp: 40),        // shares nothing
        ]
        let knn = SessionKNNScorer(sessions: sessions, itemCount: 9, configuration: .init(neighbours: 2, sampleSize: 10))
        let scores = knn.scores(forHistory: [0, 1], user: 0)
        // Neighbours: sim 1.5 and sim 1. Item 6 is in both: 2.5; item 7: 1.5; item 5's session is not a neighbour.
        #expect(scores[6] == 2.5)
        #expect(scores[7] == 1.5)
        #expect(scores[5] == 0)
        #expect(scores[8] == 0)
        // The sample keeps only the most recent candidate sessions: with 2, the oldest (sim 1.5) is out.
        let sampled = SessionKNNScorer(sessions: sessions, itemCount: 9, configuration: .init(neighbours: 2, sampleSize: 2))
        let s2 = sampled.scores(forHistory: [0, 1], user: 0)
        #expect(s2[5] == 0.5 && s2[6] == 1 && s2[7] == 0)
        #expect(knn.scores(forHistory: [], user: 0) == [Float](repeating: 0, count: 9))
        // With a current session of one item, only item 1 (weight 1) counts: sims 0, 1, 1.
        let last = SessionKNNScorer(sessions: sessions, itemCount: 9,
                                    configuration: .init(neighbours: 2, sampleSize: 10, currentSessionLength: 1))
        let s3 = last.scores(forHistory: [0, 1], user: 0)
        #expect(s3[5] == 0 && s3[6] == 2 && s3[7] == 1)
    }

    /// An end-to-end run of the published-protocol evaluation on data with a known answer: the
    /// w-users' training data holds the rule 101 → 102 that the u-users' test targets follow.
    @Test func publishedEvaluationFindsAPlantedTransition() {
        var rows: [Interaction] = []
        var order = 0
        for u in 0..<12 {
            // Each user: filler items, then 100 → 101 → 102 as the last three.
            for (t, item) in ([u % 5 + 10, (u + 1) % 5 + 10] + [100, 101, 102]).enumerated() {
                rows.append(Interaction(user: "u\(u)", item: "i\(item)", rating: 5, timestamp: Int64(t), order: order))
                order += 1
            }
        }
        // Users whose training part contains 101 → 102, so the rule exists.
        for u in 0..<4 {
            for (t, item) in [101, 102, 200, 201, 202].enumerated() {
                rows.append(Interaction(user: "w\(u)", item: "i\(item)", rating: 5, timestamp: Int64(t), order: order))
                order += 1
            }
        }
        let split = PublishedProtocol.split(rows, coreSize: 1)
        let report = PublishedProtocolEvaluation.evaluate(split: split, title: "hand")
        let sr = report.rows.filter { $0.method == "sequential rules" }
        #expect(sr.count == 2)
        // The 12 u-users' target 102 follows 101, whose strongest rule is 101 → 102: rank 0.
        #expect(sr[0].targets == 16)
        #expect(sr[0].metrics["HR@10"]! >= 12.0 / 16)
        #expect(report.rows.map(\.method).contains("V-SKNN"))
        #expect(report.rows.allSatisfy { $0.metrics["HR@10"].map { (0...1).contains($0) } ?? false })
    }
}
