import Foundation
import Logging
import MedleyProtocol
import MedleyTraining

/// The service-style evaluation on synthetic data with a planted cross-domain structure, with
/// users made cold in one domain, so that the cold-domain slice is large enough to show
/// whether sharing across domains pays off (`medley eval synthetic`, and the tests).
///
/// The data: a ``SyntheticDataset`` (one taste per user shared by all domains). The split: one
/// global time T, the time of the first of the last `testFraction` of events; events at or
/// after T are test. The cold users: a `coldUserFraction` of users (spread evenly over the
/// generation order) have one domain withheld, rotating over the domains: their events in it
/// before T are removed, so their first event in that domain after T is predicted from what
/// they did in the other domains only. The planted-taste oracle is evaluated beside the
/// baselines and models as the ceiling.
public enum SyntheticEvaluation {
    /// What to generate, withhold, train and evaluate.
    public struct Configuration: Sendable {
        /// The generator's parameters (seed, users, items...).
        public var data: SyntheticDataset.Configuration
        /// The share of events, the latest in time, that are test. Default 0.2.
        public var testFraction: Double
        /// The share of users who have one domain withheld before the cut. Default 0.5.
        public var coldUserFraction: Double
        /// What is measured. Default: HR, NDCG and MRR at 10, seen items excluded.
        public var evaluation: ChronologicalEvaluation.Configuration
        /// How the models are trained.
        public var models: ModelEvaluation.Configuration

        public init(data: SyntheticDataset.Configuration = SyntheticDataset.Configuration(), testFraction: Double = 0.2,
                    coldUserFraction: Double = 0.5,
                    evaluation: ChronologicalEvaluation.Configuration = ChronologicalEvaluation.Configuration(cutoffs: [10]),
                    models: ModelEvaluation.Configuration = ModelEvaluation.Configuration()) {
            self.data = data
            self.testFraction = testFraction
            self.coldUserFraction = coldUserFraction
            self.evaluation = evaluation
            self.models = models
        }
    }

    /// The generated data after withholding, and where it is cut.
    public struct Prepared: Sendable {
        /// The generated data set, before withholding (for the ground truth).
        public var synthetic: SyntheticDataset
        /// The events that remain.
        public var events: [Medley_V1_SessionEvent]
        /// The cut time T (milliseconds).
        public var cutMilliseconds: Int64
        /// The withheld domain of each cold user, by user id.
        public var withheldDomain: [String: String]
        /// The events removed.
        public var removedEvents: Int
    }

    /// Generates the data, picks the cut and the cold users, and removes their withheld
    /// domain's events before the cut.
    public static func prepare(_ configuration: Configuration) -> Prepared {
        precondition(configuration.testFraction > 0 && configuration.testFraction < 1, "testFraction must be in (0, 1)")
        precondition((0...1).contains(configuration.coldUserFraction), "coldUserFraction must be in [0, 1]")
        let synthetic = SyntheticDataset(configuration: configuration.data)
        let times = synthetic.events.map(\.timestampMs).sorted()
        let cut = times[min(times.count - 1, Int(Double(times.count) * (1 - configuration.testFraction)))]
        let domains = configuration.data.domains
        var withheld: [String: String] = [:]
        var cold = 0
        for (u, user) in synthetic.groundTruth.userIDs.enumerated() {
            // Evenly spread: user u is cold when the running share of cold users falls behind.
            if Double(cold) < Double(u + 1) * configuration.coldUserFraction - 1e-9 {
                withheld[user] = domains[cold % domains.count]
                cold += 1
            }
        }
        let events = synthetic.events.filter { event in
            !(event.timestampMs < cut && withheld[event.userID] == event.domain)
        }
        return Prepared(synthetic: synthetic, events: events, cutMilliseconds: cut, withheldDomain: withheld,
                        removedEvents: synthetic.events.count - events.count)
    }

    /// Generates, splits, trains the models on the training part and evaluates them with the
    /// baselines and the planted-taste oracle.
    public static func run(configuration: Configuration = Configuration(),
                           logger: Logger = Logger(label: "medley.training.eval")) throws(TrainingError) -> EvaluationReport {
        let start = ContinuousClock.now
        let prepared = prepare(configuration)
        let dataset = SequenceDataset(events: prepared.events)
        let split = ChronologicalSplit(dataset: dataset, cut: .at(timestampMilliseconds: prepared.cutMilliseconds))
        var report = try ChronologicalEvaluation.evaluate(split: split, configuration: configuration.evaluation,
                                                          models: .train(configuration.models), title: "synthetic data, global time cut",
                                                          logger: logger)
        let oracle = PlantedTasteScorer(groundTruth: prepared.synthetic.groundTruth, dataset: dataset)
        report.rows += ChronologicalEvaluation.evaluate(oracle, split: split, configuration: configuration.evaluation)
        let d = configuration.data
        report.conditions["data set"] = "synthetic, seed \(d.seed): \(d.users) users, \(d.itemsPerDomain) items in each of \(d.domains.joined(separator: ", ")), "
            + "\(d.clustersPerDomain) clusters per domain, \(prepared.synthetic.events.count) events"
        report.conditions["cold users"] = "\(prepared.withheldDomain.count) users with one domain (rotating) withheld before the cut; "
            + "\(prepared.removedEvents) events removed"
        report.conditions["split"] = "global time cut: the last \(Int((configuration.testFraction * 100).rounded()))% of the generated events in time are test"
        report.conditions["total seconds"] = String(format: "%.3f", RankingRun.seconds(since: start))
        return report
    }
}
