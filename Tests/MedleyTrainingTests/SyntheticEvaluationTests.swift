import Foundation
import MedleyModel
import Testing
@testable import MedleyEvaluation
@testable import MedleyTraining
@testable import MedleySystem

/// The end-to-end evaluation on planted data: the multitask model must recover the taste that
/// users share across domains, which shows for users cold in the target's domain.
@Suite struct SyntheticEvaluationTests {
    /// A data set small enough for a debug build, with a strong planted taste.
    static let configuration: SyntheticEvaluation.Configuration = {
        var c = SyntheticEvaluation.Configuration(
            data: SyntheticDataset.Configuration(seed: 5, users: 160, itemsPerDomain: 40, clustersPerDomain: 4, dimension: 4,
                                                intentStrength: 0.2, sharpness: 8, itemSpread: 0.2, popularitySpread: 0),
            testFraction: 0.3, coldUserFraction: 1)
        c.models.training = TrainerFixtures.configuration(domains: ["news", "video", "music"], epochs: 15)
        c.models.singleTaskHeads = .domains
        return c
    }()

    @Test func withheldDomainsAreRemovedBeforeTheCutOnly() {
        let prepared = SyntheticEvaluation.prepare(Self.configuration)
        #expect(prepared.withheldDomain.count == 160)
        #expect(prepared.removedEvents > 0)
        for event in prepared.events where prepared.withheldDomain[event.userID] == event.domain {
            #expect(event.timestampMs >= prepared.cutMilliseconds)
        }
        var half = Self.configuration
        half.coldUserFraction = 0.5
        #expect(SyntheticEvaluation.prepare(half).withheldDomain.count == 80)
    }

    /// The planted stream of ``TrainerFixtures/plantedStream`` (a user's cluster in video is
    /// their cluster in music; "cold-*" users have video only), and a week later one more
    /// session of music of their own cluster for every user: the test part. A cold user's first
    /// music event is predicted from what they did in video only.
    @Test func multitaskModelRecoversThePlantedTasteForColdDomainUsers() throws {
        typealias F = TrainerFixtures
        var events = F.plantedStream(coldPerCluster: 8)
        let cut = 7 * 24 * F.hour
        var rng = SplitMix64(seed: 21)
        for user in Set(events.map(\.userID)).sorted() {
            let cluster = Int(user.split(separator: "-")[1])!
            for k in 0..<4 {
                events.append(F.event(user, "music", "m\(cluster)-\(Int(rng.next() % 10))", at: cut + Int64(k) * F.minute))
            }
        }
        let split = ChronologicalSplit(dataset: SequenceDataset(events: events), cut: .at(timestampMilliseconds: cut))
        let models = ModelEvaluation.Configuration(training: F.configuration(domains: ["video", "music"], epochs: 20),
                                                   singleTaskHeads: .domains)
        let report = try ChronologicalEvaluation.evaluate(split: split, configuration: .init(cutoffs: [10]),
                                                          models: .train(models), title: "planted")
        let cold = ChronologicalEvaluation.coldSegment
        func row(_ method: String) -> EvaluationReport.Row? { report.rows.first { $0.method == method && $0.segment == cold } }
        let multitaskRow = try #require(row(ModelEvaluation.multitaskDomainHeads))
        let multitask = try #require(multitaskRow.metrics["HR@10"])
        let popularity = try #require(row("popularity")?.metrics["HR@10"])
        let singleTask = try #require(row(ModelEvaluation.singleTaskDomainHeads)?.metrics["HR@10"])
        #expect(multitaskRow.targets == 32, "one cold music target per cold user")
        // Music has 4 clusters of 10 items: a random ranking hits about a quarter of the time.
        // Measured here: multitask 0.44, popularity 0.31, music-only 0.28 (32 targets).
        #expect(multitask >= 0.4, "multitask \(multitask)")
        #expect(multitask > popularity + 0.1, "multitask \(multitask), popularity \(popularity)")
        #expect(multitask > singleTask + 0.1, "multitask \(multitask), single-task \(singleTask)")
        // Every method has its rows; domain heads have no cross-domain row.
        #expect(report.rows.contains { $0.method == ModelEvaluation.multitaskSessionHead && $0.segment == ChronologicalEvaluation.allDomainsSegment })
        #expect(!report.rows.contains { $0.method == ModelEvaluation.multitaskDomainHeads && $0.segment == ChronologicalEvaluation.allDomainsSegment })
        #expect(report.conditions["multitask training"] != nil)
    }

    @Test func reportRoundTripsThroughJSON() throws {
        let report = EvaluationReport(
            title: "t", conditions: ["split": "global", "model": "d 16"], cutoffs: [10],
            rows: [EvaluationReport.Row(method: ModelEvaluation.multitaskSessionHead, variant: "seen excluded", segment: "cold",
                                        targets: 12, metrics: ["HR@10": 0.25, "NDCG@10": 0.125, "MRR@10": 0.0625], seconds: 1.5)])
        let decoded = try EvaluationReport.decode(report.json())
        #expect(decoded == report)
    }
}
