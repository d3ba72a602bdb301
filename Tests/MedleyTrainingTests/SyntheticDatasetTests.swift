import MedleyEvaluation
import MedleyTraining
import Testing

@Suite struct SyntheticDatasetTests {
    static let small = SyntheticDataset.Configuration(seed: 7, users: 60, itemsPerDomain: 40, clustersPerDomain: 4)

    @Test func sameSeedSameData() {
        let a = SyntheticDataset(configuration: Self.small)
        let b = SyntheticDataset(configuration: Self.small)
        #expect(a.events == b.events)
        #expect(a.groundTruth == b.groundTruth)
        var other = Self.small
        other.seed = 8
        #expect(SyntheticDataset(configuration: other).events != a.events)
    }

    @Test func eventsAreWellFormedAndChronological() {
        let data = SyntheticDataset(configuration: Self.small)
        #expect(!data.events.isEmpty)
        #expect(zip(data.events, data.events.dropFirst()).allSatisfy { $0.timestampMs <= $1.timestampMs })
        #expect(data.events.allSatisfy { !$0.userID.isEmpty && !$0.itemID.isEmpty && $0.type != .unspecified && $0.hasSessionID })
        #expect(Set(data.events.map(\.domain)) == ["news", "video", "music"])
        // The planted sessions are exactly the ones the sessionizer's 30-minute rule finds.
        let sessions = Set(data.events.map(\.sessionID))
        #expect(sessions == Set(data.groundTruth.sessions.map(\.sessionID)))
    }

    /// Most events of a session are in its planted intent domain, and in its intent cluster
    /// far more often than the 1 in 4 that chance would give.
    @Test func plantedIntentIsVisible() {
        let data = SyntheticDataset(configuration: Self.small)
        let truth = data.groundTruth
        let intent = Dictionary(uniqueKeysWithValues: truth.sessions.map { ($0.sessionID, $0) })
        let itemIndex = Dictionary(uniqueKeysWithValues: truth.itemIDs.enumerated().map { ($1, $0) })
        var inDomain = 0, inCluster = 0
        for event in data.events {
            let planted = intent[event.sessionID]!
            let item = itemIndex[event.itemID]!
            if truth.itemDomain[item] == planted.domain {
                inDomain += 1
                if truth.itemCluster[item] == planted.cluster { inCluster += 1 }
            }
        }
        #expect(Double(inDomain) / Double(data.events.count) > 0.8)
        #expect(Double(inCluster) / Double(inDomain) > 0.5)
    }

    /// The planted taste is learnable: an oracle that knows it beats popularity by a wide
    /// margin on the service-style evaluation, overall and in every domain.
    @Test func oracleBeatsPopularity() {
        let data = SyntheticDataset(configuration: .init(seed: 3, users: 150, itemsPerDomain: 60))
        let dataset = SequenceDataset(events: data.events)
        let split = ChronologicalSplit(dataset: dataset, cut: .perUser(testFraction: 0.2))
        let configuration = ChronologicalEvaluation.Configuration(cutoffs: [10])
        let popularity = ChronologicalEvaluation.evaluate(PopularityScorer(training: split.training), split: split,
                                                          configuration: configuration)
        let oracle = ChronologicalEvaluation.evaluate(PlantedTasteScorer(groundTruth: data.groundTruth, dataset: dataset),
                                                      split: split, configuration: configuration)
        #expect(popularity.map(\.segment) == oracle.map(\.segment))
        for (p, o) in zip(popularity, oracle) where !p.segment.hasPrefix("cold") {  // the cold slices are tiny here
            #expect(o.metrics["HR@10"]! > p.metrics["HR@10"]! + 0.1, "segment \(p.segment)")
        }
    }
}
