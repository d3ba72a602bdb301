import Foundation
import Logging
import MedleyTraining

/// The service-style evaluation: a ``ChronologicalSplit``, full ranking over the catalogue,
/// HR@K, NDCG@K and MRR@K (rank rule of ``RankingMetrics``), averaged over test events:
///
/// - segment "all domains": the target ranked among all items (the session head's
///   cross-domain "what next" list);
/// - segment "<domain>": targets in that domain ranked among that domain's items (the
///   domain head's list);
/// - segment "cold:<domain>": the part of "<domain>" whose user had no interaction in that
///   domain before the target but at least `warmMinimum` in other domains: the cross-domain
///   case, where only what the user did elsewhere can help;
/// - segment "cold": the cold slices of every domain together;
/// - with the cold-in-domain protocol (``ColdDomainProtocol``), segments
///   "cold-in-domain:<domain>" and "cold-in-domain": its probes, ranked among the domain's
///   items, and in no other segment.
///
/// With `excludeSeen`, items the user interacted with before the target are not candidates
/// (the service's behaviour); the target itself always is.
public enum ChronologicalEvaluation {
    /// The name of the cross-domain segment.
    public static let allDomainsSegment = "all domains"
    /// The name of the segment that pools every domain's cold slice.
    public static let coldSegment = "cold"

    /// What to evaluate.
    public struct Configuration: Sendable {
        /// The number of items before the target given as input.
        public var historyLength: Int
        /// The cutoffs K.
        public var cutoffs: [Int]
        /// Leave out items seen before the target.
        public var excludeSeen: Bool
        /// Interactions in other domains that make a user warm for the cold-domain slice.
        public var warmMinimum: Int
        /// At most this many targets per user (the earliest), to bound the run time; nil: all.
        public var maxTargetsPerUser: Int?

        public init(historyLength: Int = PublishedProtocol.historyLength, cutoffs: [Int] = [10, 20],
                    excludeSeen: Bool = true, warmMinimum: Int = 5, maxTargetsPerUser: Int? = nil) {
            self.historyLength = historyLength
            self.cutoffs = cutoffs
            self.excludeSeen = excludeSeen
            self.warmMinimum = warmMinimum
            self.maxTargetsPerUser = maxTargetsPerUser
        }

        var variant: String {
            excludeSeen ? PublishedProtocolEvaluation.seenExcludedVariant : PublishedProtocolEvaluation.allItemsVariant
        }
    }

    /// The queries of a split: one per target, capped per user when configured.
    public static func queries(split: ChronologicalSplit, configuration: Configuration) -> [ScoringQuery] {
        var perUser: [Int: Int] = [:]
        var queries: [ScoringQuery] = []
        for (user, position) in split.targets {
            if let cap = configuration.maxTargetsPerUser {
                guard perUser[user, default: 0] < cap else { continue }
                perUser[user, default: 0] += 1
            }
            let sequence = split.dataset.sequences[user]
            queries.append(ScoringQuery(user: user, history: Array(sequence[max(0, position - configuration.historyLength)..<position]),
                                        targetPosition: position))
        }
        return queries
    }

    /// Ranks every target with one scorer; rows for all domains, each domain and each cold slice.
    public static func evaluate(_ scorer: some Scorer, split: ChronologicalSplit,
                                configuration: Configuration = Configuration(), fitSeconds: Double = 0) -> [EvaluationReport.Row] {
        let start = ContinuousClock.now
        let dataset = split.dataset
        let variant = configuration.variant
        let cutoffs = configuration.cutoffs
        let excludeSeen = configuration.excludeSeen
        let warmMinimum = configuration.warmMinimum
        let domainKeys = dataset.domains.map { RowKey(variant: variant, segment: $0) }
        let coldKeys = dataset.domains.map { RowKey(variant: variant, segment: "cold:\($0)") }
        let allKey = RowKey(variant: variant, segment: allDomainsSegment)
        let coldKey = RowKey(variant: variant, segment: coldSegment)
        let probeKeys = dataset.domains.map { RowKey(variant: variant, segment: ColdDomainProtocol.segment($0)) }
        let probeKey = RowKey(variant: variant, segment: ColdDomainProtocol.pooledSegment)
        let probes = split.coldProbes

        let sums = RankingRun.run(scorer: scorer, queries: queries(split: split, configuration: configuration),
                                  cutoffs: cutoffs) { query, scores, accumulators in
            let sequence = dataset.sequences[query.user]
            let target = sequence[query.targetPosition]
            let before = sequence[..<query.targetPosition]
            let excluded = excludeSeen ? before : []
            let domain = dataset.itemDomain[target]
            if probes[query.user] != nil {
                let rank = RankingMetrics.rank(of: target, scores: scores, candidates: dataset.domainRanges[domain], excluded: excluded)
                accumulators[probeKeys[domain], default: MetricAccumulator(cutoffs: cutoffs)].add(rank: rank)
                accumulators[probeKey, default: MetricAccumulator(cutoffs: cutoffs)].add(rank: rank)
                return
            }

            accumulators[allKey, default: MetricAccumulator(cutoffs: cutoffs)]
                .add(rank: RankingMetrics.rank(of: target, scores: scores, candidates: 0..<dataset.itemCount, excluded: excluded))
            let domainRank = RankingMetrics.rank(of: target, scores: scores, candidates: dataset.domainRanges[domain], excluded: excluded)
            accumulators[domainKeys[domain], default: MetricAccumulator(cutoffs: cutoffs)].add(rank: domainRank)

            var inDomain = 0
            for item in before where dataset.itemDomain[item] == domain { inDomain += 1 }
            if inDomain == 0 && before.count >= warmMinimum {
                accumulators[coldKeys[domain], default: MetricAccumulator(cutoffs: cutoffs)].add(rank: domainRank)
                accumulators[coldKey, default: MetricAccumulator(cutoffs: cutoffs)].add(rank: domainRank)
            }
        }
        let seconds = fitSeconds + RankingRun.seconds(since: start)
        return ([allKey] + domainKeys + coldKeys + [coldKey] + probeKeys + [probeKey]).compactMap { key in
            guard let sum = sums[key] else { return nil }
            return EvaluationReport.Row(method: scorer.name, variant: key.variant, segment: key.segment,
                                        targets: sum.count, metrics: sum.means, seconds: seconds)
        }
    }

    /// The baselines of the service-style evaluation, as fitting closures: popularity
    /// (global, and last item's domain first), sequential rules and V-SKNN on the training
    /// sequences cut into sessions at `sessionGapMilliseconds`.
    public static func baselines(training: TrainingSequences,
                                 sessionGapMilliseconds: Int64 = Sessionizer.defaultGapSeconds * 1000,
                                 sessionKNN: SessionKNNScorer.Configuration = PublishedProtocolEvaluation.Configuration.defaultSessionKNN)
        -> [(name: String, fit: @Sendable () -> any Scorer)] {
        [
            ("popularity", { PopularityScorer(training: training) }),
            ("popularity (last item's domain)", { PopularityScorer(training: training, scope: .lastItemDomain) }),
            ("sequential rules", { SequentialRulesScorer(sessions: training.sessions(gapMilliseconds: nil), itemCount: training.itemCount) }),
            ("V-SKNN", {
                SessionKNNScorer(sessions: training.sessions(gapMilliseconds: sessionGapMilliseconds), itemCount: training.itemCount,
                                 configuration: sessionKNN)
            }),
        ]
    }

    /// Fits the baselines on the split's training part, evaluates them and any further
    /// scorers (a trained model, single-task models), and reports: the entry point of
    /// `medley eval` on event data.
    public static func evaluate(split: ChronologicalSplit, configuration: Configuration = Configuration(),
                                additionalScorers: [any Scorer] = [], title: String,
                                logger: Logger = Logger(label: "medley.training.eval")) -> EvaluationReport {
        var rows: [EvaluationReport.Row] = []
        for (name, fit) in baselines(training: split.training) {
            logger.info("fitting \(name)")
            let start = ContinuousClock.now
            let scorer = fit()
            rows += evaluate(scorer, split: split, configuration: configuration, fitSeconds: RankingRun.seconds(since: start))
        }
        for scorer in additionalScorers {
            logger.info("evaluating \(scorer.name)")
            rows += evaluate(scorer, split: split, configuration: configuration)
        }
        var conditions: [String: String] = [
            "split": split.cut.description,
            "targets": "\(split.targets.count) test events" + (configuration.maxTargetsPerUser.map { ", at most \($0) per user" } ?? "")
                + "; \(split.unknownItemTargets) left out (item not in training)",
            "training interactions": String(split.training.interactionCount),
            "users": String(split.dataset.userCount),
            "items": split.dataset.domains.enumerated()
                .map { "\($1) \(split.dataset.domainRanges[$0].count)" }.joined(separator: ", "),
            "history length": String(configuration.historyLength),
            "candidates": configuration.excludeSeen ? "items seen before the target excluded" : "all items",
            "cold slice": "no earlier interaction in the target's domain, at least \(configuration.warmMinimum) elsewhere",
            "rank": "items scored above the target + half the items tied with it",
            "cores": String(ProcessInfo.processInfo.activeProcessorCount),
        ]
        if let cold = split.coldProtocol {
            conditions["cold-in-domain protocol"] = cold.description + "; \(split.coldProbes.count) probes, "
                + "\(Set(split.coldProbes.keys.map { split.dataset.userIDs[$0] }).count) users"
            conditions["users"] = String(split.dataset.userCount - split.coldProbes.count)
        }
        return EvaluationReport(title: title, conditions: conditions, cutoffs: configuration.cutoffs, rows: rows)
    }

    /// Reads a MovieLens data set (as fetched by `scripts/fetch-movielens.sh`), gives items
    /// their domains by the built-in genre mapping, splits it chronologically and evaluates
    /// the baselines: `medley eval` on MovieLens without importing it first.
    public static func run(dataDirectory: String, datasetName: String = "ml-1m",
                           cut: ChronologicalCut = .perUser(testFraction: 0.2),
                           configuration: Configuration = Configuration(), additionalScorers: [any Scorer] = [],
                           logger: Logger = Logger(label: "medley.training.eval")) throws(DataFileError) -> EvaluationReport {
        try EvaluationReport.timed { () throws(DataFileError) in
            let data = try load(dataDirectory: dataDirectory, datasetName: datasetName, logger: logger)
            return (evaluate(split: ChronologicalSplit(dataset: data.dataset, cut: cut), configuration: configuration,
                             additionalScorers: additionalScorers, title: "chronological split, \(datasetName)", logger: logger),
                    data.description)
        }
    }

    /// Reads a MovieLens data set and gives its items their domains by the built-in genre
    /// mapping, with a description of what was read for the report's conditions.
    static func load(dataDirectory: String, datasetName: String,
                     logger: Logger) throws(DataFileError) -> (dataset: SequenceDataset, description: String) {
        logger.info("reading \(datasetName)", metadata: ["directory": "\(dataDirectory)"])
        let data = try MovieLensDataset.load(directory: "\(dataDirectory)/\(datasetName)", name: datasetName)
        let mapping = GenreDomainMapping.movieLensV1
        let dataset = SequenceDataset(interactions: data.interactions, itemDomains: data.itemDomains(mapping: mapping), mapping: mapping)
        return (dataset, "\(datasetName) (\(data.interactions.count) rows, all ratings; genre mapping v\(mapping.version))")
    }
}
