import Foundation
import MedleyModel
import Testing
@testable import MedleyEvaluation
@testable import MedleyTraining

/// The cold-in-domain protocol: what it removes, what it probes, and that sharing pays on it
/// when one domain's taste predicts the other's.
@Suite struct ColdDomainProtocolTests {
    typealias F = TrainerFixtures

    private func dataset(_ rows: [(String, String, String, Int64)]) -> SequenceDataset {
        SequenceDataset(entries: rows.map {
            SequenceDataset.Entry(user: $0.0, item: $0.1, domain: $0.2, timestampMilliseconds: $0.3, type: .play)
        })
    }

    @Test func removesTheColdDomainAndProbesItsTestEvents() {
        // Three users alternate news and video; ten events each, the last two test.
        var rows: [(String, String, String, Int64)] = []
        for u in 0..<3 {
            for k in 0..<10 {
                let domain = k % 2 == 0 ? "news" : "video"
                rows.append(("u\(u)", "\(domain.first!)\(k % 4)", domain, Int64(k)))
            }
        }
        let split = ChronologicalSplit(dataset: dataset(rows), cut: .perUser(testFraction: 0.2))
        let cold = ColdDomainProtocol.apply(to: split, configuration: .init(targetsPerDomain: 1, maxTargetsPerUser: 5, warmMinimum: 2, seed: 3))
        let data = cold.dataset
        let news = data.domains.firstIndex(of: "news")!, video = data.domains.firstIndex(of: "video")!
        // One user per domain (one test event each reaches the quota); the third stays whole.
        let probeDomains = cold.coldProbes.values.sorted()
        #expect(probeDomains == [news, video].sorted())
        #expect(data.userCount == 3 + 2)
        for u in 0..<3 {
            let lost = Set(0..<data.domains.count).subtracting(data.sequences[u].map { data.itemDomain[$0] })
            #expect(lost.count <= 1)
            if let d = lost.first {
                // Their training lost the domain; their probes are theirs, without it, target last.
                let probes = cold.coldProbes.filter { $0.value == d }.map(\.key)
                #expect(probes.count == 1)
                for p in probes {
                    #expect(data.userIDs[p] == data.userIDs[u])
                    let sequence = data.sequences[p]
                    #expect(data.itemDomain[sequence.last!] == d)
                    #expect(sequence.dropLast().allSatisfy { data.itemDomain[$0] != d })
                    #expect(cold.trainingLength[p] == 0)
                }
            } else {
                #expect(data.sequences[u] == split.dataset.sequences[u])
            }
        }
        #expect(cold.training.interactionCount < split.training.interactionCount)
        // Probes count only in the protocol's segments.
        let rowsOut = ChronologicalEvaluation.evaluate(PopularityScorer(training: cold.training), split: cold,
                                                       configuration: .init(cutoffs: [1], warmMinimum: 0))
        let bySegment = Dictionary(uniqueKeysWithValues: rowsOut.map { ($0.segment, $0.targets) })
        #expect(bySegment[ColdDomainProtocol.segment("news")] == 1)
        #expect(bySegment[ColdDomainProtocol.segment("video")] == 1)
        #expect(bySegment[ColdDomainProtocol.pooledSegment] == 2)
        #expect(bySegment[ChronologicalEvaluation.allDomainsSegment] == cold.targets.count - 2)
    }

    /// Users like one cluster in both domains. Users made cold in music are known by their
    /// video only: the multitask model, whose user vectors and video items also learn from the
    /// video head, ranks their music better than a music model trained alone on the same data.
    @Test func multitaskBeatsSingleTaskOnColdUsers() throws {
        let events = F.plantedStream(clusters: 4, itemsPerCluster: 10, warmPerCluster: 20, coldPerCluster: 0, sessions: 8)
        let split = ChronologicalSplit(dataset: SequenceDataset(events: events), cut: .perUser(testFraction: 0.25))
        let cold = ColdDomainProtocol.apply(to: split, configuration: .init(targetsPerDomain: 60, maxTargetsPerUser: 5, seed: 2))
        var training = F.configuration(epochs: 12)
        training.model.domains = cold.dataset.domains
        let report = try ChronologicalEvaluation.evaluate(
            split: cold, configuration: .init(cutoffs: [10]),
            models: .train(ModelEvaluation.Configuration(training: training, singleTaskHeads: .domains)), title: "planted")
        func ndcg(_ method: String, _ segment: String) throws -> Double {
            let row = try #require(report.rows.first { $0.method == method && $0.segment == segment })
            #expect(row.targets >= 60)
            return try #require(row.metrics["NDCG@10"])
        }
        for domain in ["music", "video"] {
            let segment = ColdDomainProtocol.segment(domain)
            let shared = try ndcg(ModelEvaluation.multitaskDomainHeads, segment)
            let alone = try ndcg(ModelEvaluation.singleTaskDomainHeads, segment)
            #expect(shared > alone * 1.05, "\(segment): multitask \(shared), single-task \(alone)")
        }
    }
}
