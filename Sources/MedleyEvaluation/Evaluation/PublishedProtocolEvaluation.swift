import Foundation
import Logging
import MedleyTraining

/// The published-protocol evaluation: leave-one-out on the filtered data (see
/// ``PublishedProtocol``), the last 50 items before the target as input, full ranking, and
/// HR@K and NDCG@K averaged over users in two variants:
///
/// - "all items": every item is a candidate, including those the user has seen (RecBole's
///   way for sequential models);
/// - "seen excluded": every item the user interacted with before the target is left out
///   (what the service does).
///
/// Baselines are fitted on the training part only (all but each user's last two
/// interactions); the validation interaction is part of the test input, never of a fit.
public enum PublishedProtocolEvaluation {
    /// The report variant in which every item is a candidate.
    public static let allItemsVariant = "all items"
    /// The report variant in which items seen before the target are not candidates.
    public static let seenExcludedVariant = "seen excluded"

    /// What to evaluate and how the baselines are set.
    public struct Configuration: Sendable {
        /// The number of items before the target given as input.
        public var historyLength: Int
        /// The cutoffs K.
        public var cutoffs: [Int]
        /// Which held-out interaction is predicted.
        public var target: LeaveOneOutTarget
        /// Sequential rules' parameters.
        public var sequentialRules: SequentialRulesScorer.Configuration
        /// V-SKNN's parameters.
        public var sessionKNN: SessionKNNScorer.Configuration
        /// V-SKNN's past sessions: each user's training sequence cut at gaps longer than
        /// this, or whole when nil.
        public var sessionKNNGapMilliseconds: Int64?

        /// V-SKNN's defaults here: past sessions cut at 30 minutes and the last 3 input items
        /// as the current session, the best of a small grid on the ML-1M validation target
        /// (docs/results-ml1m.md); whole user sequences make every user a neighbour of everyone.
        public static let defaultSessionKNN = SessionKNNScorer.Configuration(neighbours: 100, sampleSize: 1000, currentSessionLength: 3)

        public init(historyLength: Int = PublishedProtocol.historyLength, cutoffs: [Int] = [10],
                    target: LeaveOneOutTarget = .test,
                    sequentialRules: SequentialRulesScorer.Configuration = .init(),
                    sessionKNN: SessionKNNScorer.Configuration = Configuration.defaultSessionKNN,
                    sessionKNNGapMilliseconds: Int64? = Sessionizer.defaultGapSeconds * 1000) {
            self.historyLength = historyLength
            self.cutoffs = cutoffs
            self.target = target
            self.sequentialRules = sequentialRules
            self.sessionKNN = sessionKNN
            self.sessionKNNGapMilliseconds = sessionKNNGapMilliseconds
        }
    }

    /// Ranks every evaluated user's target with one scorer; one row per variant.
    public static func evaluate(_ scorer: some Scorer, split: LeaveOneOutSplit,
                                configuration: Configuration = Configuration(),
                                fitSeconds: Double = 0) -> [EvaluationReport.Row] {
        let start = ContinuousClock.now
        let dataset = split.dataset
        let queries = split.evaluatedUsers.map {
            split.query(user: $0, target: configuration.target, historyLength: configuration.historyLength)
        }
        let all = RowKey(variant: allItemsVariant, segment: "all")
        let seen = RowKey(variant: seenExcludedVariant, segment: "all")
        let cutoffs = configuration.cutoffs
        let sums = RankingRun.run(scorer: scorer, queries: queries, cutoffs: cutoffs) { query, scores, accumulators in
            let sequence = dataset.sequences[query.user]
            let target = sequence[query.targetPosition]
            let catalogue = 0..<dataset.itemCount
            accumulators[all, default: MetricAccumulator(cutoffs: cutoffs)]
                .add(rank: RankingMetrics.rank(of: target, scores: scores, candidates: catalogue))
            accumulators[seen, default: MetricAccumulator(cutoffs: cutoffs)]
                .add(rank: RankingMetrics.rank(of: target, scores: scores, candidates: catalogue,
                                               excluded: sequence[..<query.targetPosition]))
        }
        let seconds = fitSeconds + RankingRun.seconds(since: start)
        return [all, seen].map { key in
            let sum = sums[key] ?? MetricAccumulator(cutoffs: cutoffs)
            return EvaluationReport.Row(method: scorer.name, variant: key.variant, segment: key.segment,
                                        targets: sum.count, metrics: sum.means, seconds: seconds)
        }
    }

    /// Fits the three baselines (popularity, sequential rules, V-SKNN) on the split's training
    /// part and evaluates each, plus any further scorers given (a trained model).
    public static func evaluate(split: LeaveOneOutSplit, configuration: Configuration = Configuration(),
                                additionalScorers: [any Scorer] = [], title: String,
                                logger: Logger = Logger(label: "medley.training.eval")) -> EvaluationReport {
        let training = split.training
        let fits: [(String, @Sendable () -> any Scorer)] = [
            ("popularity", { PopularityScorer(training: training) }),
            ("sequential rules", {
                SequentialRulesScorer(sessions: training.sessions(gapMilliseconds: nil), itemCount: training.itemCount,
                                      configuration: configuration.sequentialRules)
            }),
            ("V-SKNN", {
                SessionKNNScorer(sessions: training.sessions(gapMilliseconds: configuration.sessionKNNGapMilliseconds),
                                 itemCount: training.itemCount, configuration: configuration.sessionKNN)
            }),
        ]
        var rows: [EvaluationReport.Row] = []
        for (name, fit) in fits {
            logger.info("fitting \(name)")
            let start = ContinuousClock.now
            let scorer = fit()
            let fitSeconds = RankingRun.seconds(since: start)
            logger.info("evaluating \(name)", metadata: ["fit_seconds": "\(fitSeconds)"])
            rows += evaluate(scorer, split: split, configuration: configuration, fitSeconds: fitSeconds)
        }
        for scorer in additionalScorers {
            logger.info("evaluating \(scorer.name)")
            rows += evaluate(scorer, split: split, configuration: configuration)
        }
        let dataset = split.dataset
        var conditions: [String: String] = [
            "protocol": "ratings >= \(PublishedProtocol.minimumRating); \(PublishedProtocol.coreSize)-core repeated until stable; leave-one-out by timestamp, ties in file order",
            "target": configuration.target.rawValue,
            "interactions": String(dataset.interactionCount),
            "users": String(split.evaluatedUsers.count),
            "items": String(dataset.itemCount),
            "history length": String(configuration.historyLength),
            "rank": "items scored above the target + half the items tied with it",
            "baselines fitted on": "training part (all but each user's last two interactions)",
            "sequential rules": "steps \(configuration.sequentialRules.steps), rules per item \(configuration.sequentialRules.rulesPerItem.map(String.init) ?? "all"), sessions = whole training sequences",
            "V-SKNN": "k \(configuration.sessionKNN.neighbours), sample \(configuration.sessionKNN.sampleSize), current session = "
                + (configuration.sessionKNN.currentSessionLength.map { "last \($0) items" } ?? "the whole input")
                + ", past sessions = " +
                (configuration.sessionKNNGapMilliseconds.map { "training sequences cut at gaps > \($0 / 1000) s" } ?? "whole training sequences"),
            "cores": String(ProcessInfo.processInfo.activeProcessorCount),
        ]
        #if DEBUG
        conditions["build"] = "debug"
        #else
        conditions["build"] = "release"
        #endif
        return EvaluationReport(title: title, conditions: conditions, cutoffs: configuration.cutoffs, rows: rows)
    }

    /// Reads `<dataDirectory>/<datasetName>/<datasetName>.inter` (as fetched by
    /// `scripts/fetch-movielens.sh`), prepares it by the published protocol and evaluates the
    /// baselines: the entry point of `medley eval` in published-protocol mode.
    public static func run(dataDirectory: String, datasetName: String = "ml-1m",
                           configuration: Configuration = Configuration(), additionalScorers: [any Scorer] = [],
                           logger: Logger = Logger(label: "medley.training.eval")) throws(DataFileError) -> EvaluationReport {
        try EvaluationReport.timed { () throws(DataFileError) in
            let data = try load(dataDirectory: dataDirectory, datasetName: datasetName, logger: logger)
            return (evaluate(split: data.split, configuration: configuration, additionalScorers: additionalScorers,
                             title: "published protocol, \(datasetName)", logger: logger), data.description)
        }
    }

    /// Reads a MovieLens data set and prepares it by the published protocol, with a
    /// description of what was read for the report's conditions.
    static func load(dataDirectory: String, datasetName: String,
                     logger: Logger) throws(DataFileError) -> (split: LeaveOneOutSplit, description: String) {
        logger.info("reading \(datasetName)", metadata: ["directory": "\(dataDirectory)"])
        let data = try MovieLensDataset.load(directory: "\(dataDirectory)/\(datasetName)", name: datasetName)
        let split = PublishedProtocol.split(data.interactions, itemDomains: data.itemDomains(mapping: .movieLensV1))
        logger.info("prepared", metadata: ["interactions": "\(split.dataset.interactionCount)",
                                           "users": "\(split.dataset.userCount)", "items": "\(split.dataset.itemCount)"])
        return (split, "\(datasetName) (\(data.interactions.count) rows read)")
    }
}
