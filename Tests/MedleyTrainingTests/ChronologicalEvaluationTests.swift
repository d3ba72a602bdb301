import MedleyEvaluation
import MedleyTraining
import Testing

@Suite struct ChronologicalEvaluationTests {
    func dataset(_ rows: [(String, String, String, Int64)]) -> SequenceDataset {
        SequenceDataset(entries: rows.map {
            SequenceDataset.Entry(user: $0.0, item: $0.1, domain: $0.2, timestampMilliseconds: $0.3, type: .play)
        })
    }

    @Test func perUserCutHoldsOutEachUsersLastFraction() {
        let data = dataset((0..<10).map { ("a", "i\($0)", "video", Int64($0)) } + [("b", "i0", "video", 3), ("c", "i1", "video", 1), ("c", "i2", "video", 2)])
        let split = ChronologicalSplit(dataset: data, cut: .perUser(testFraction: 0.2))
        #expect(split.trainingLength == [8, 1, 1])
        // a's targets are positions 8 and 9 (i8, i9): neither item is in training.
        #expect(split.unknownItemTargets == 2)
        #expect(split.targets.map { "\($0.user):\($0.position)" } == ["2:1"])
    }

    @Test func globalCutUsesOneTimeForEveryone() {
        let data = dataset([("a", "x", "news", 1), ("a", "y", "news", 2), ("b", "x", "news", 3), ("b", "y", "news", 4), ("c", "y", "news", 5)])
        let split = ChronologicalSplit(dataset: data, cut: .global(testFraction: 0.4))
        // Boundary = the time of interaction 3 of 5 in time order = 4.
        #expect(split.trainingLength == [2, 1, 0])
        #expect(split.targets.map { "\($0.user):\($0.position)" } == ["1:1", "2:0"])
    }

    /// A user who only used video before a news target is in the cold-news slice; one who had
    /// read news before is not; the cold slice ranks within the domain like the domain row.
    @Test func coldDomainSliceAndDomainRows() {
        // The reader makes n1 the more popular news item and n0 a known one.
        var rows: [(String, String, String, Int64)] = [
            ("reader", "n1", "news", 0), ("reader", "n1", "news", 1), ("reader", "n0", "news", 2),
            ("reader", "v0", "video", 3), ("reader", "v1", "video", 4),
        ]
        for u in 0..<3 {
            rows += (0..<5).map { ("cold\(u)", "v\($0)", "video", Int64($0)) }
            rows.append(("cold\(u)", "n0", "news", 10))
        }
        rows += [("warm", "n1", "news", 0), ("warm", "v0", "video", 1), ("warm", "n0", "news", 2)]
        let data = dataset(rows)
        var cut = [Int](repeating: 0, count: data.userCount)
        for u in 0..<data.userCount { cut[u] = data.sequences[u].count - 1 }
        let split = ChronologicalSplit(dataset: data, cut: .perUser(testFraction: 0.2))
        #expect(split.trainingLength == cut)
        let rowsOut = ChronologicalEvaluation.evaluate(PopularityScorer(training: split.training), split: split,
                                                       configuration: .init(cutoffs: [1]))
        let bySegment = Dictionary(uniqueKeysWithValues: rowsOut.map { ($0.segment, $0) })
        #expect(bySegment["news"]?.targets == 4)
        #expect(bySegment["cold:news"]?.targets == 3)
        #expect(bySegment["cold:video"] == nil)
        // Among news, n1 (3 in training) beats n0 (1): the cold users rank n0 second; the warm user
        // has read n1, which is excluded, so n0 is first for them.
        #expect(bySegment["news"]?.metrics["HR@1"] == 0.25)
        #expect(bySegment["cold:news"]?.metrics["HR@1"] == 0)
        #expect(bySegment[ChronologicalEvaluation.allDomainsSegment]?.targets == 5)
    }

    @Test func reportListsEveryBaseline() {
        let data = SequenceDataset(events: SyntheticDataset(configuration: .init(seed: 5, users: 30, itemsPerDomain: 20)).events)
        let split = ChronologicalSplit(dataset: data, cut: .global(testFraction: 0.2))
        let report = ChronologicalEvaluation.evaluate(split: split, configuration: .init(maxTargetsPerUser: 3), title: "synthetic")
        #expect(Set(report.rows.map(\.method)) == ["popularity", "popularity (last item's domain)", "sequential rules", "V-SKNN"])
        #expect(report.rows.filter { $0.segment == ChronologicalEvaluation.allDomainsSegment }.allSatisfy { $0.targets <= 3 * 30 })
        #expect(report.table().contains("V-SKNN"))
    }
}
