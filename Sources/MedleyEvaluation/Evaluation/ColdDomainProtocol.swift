import MedleyProtocol
import MedleyTraining

/// The cross-domain cold-start protocol on a chronological split: users known in other
/// domains, whose past in one domain is hidden, predicted in that domain.
///
/// For each domain d in order, users who have training events in d, at least `warmMinimum`
/// training events in other domains and test events in d, and who were not picked for an
/// earlier domain, are drawn in a seeded order until their test events in d number at least
/// `targetsPerDomain` (each user counting at most `maxTargetsPerUser`, the earliest). For a
/// picked user, every event in d (training and test) is removed from their sequence, so no
/// model or baseline trains on it and no input shows it; their other events stay, training and
/// test alike. Each of their test events in d becomes a probe: a sequence of the same user id
/// made of their events outside d before the target, then the target, with nothing of it in
/// training. Probes are scored like any target (the model reads the user's learned vector and
/// the history), and count only in the segments "cold-in-domain:<d>" and "cold-in-domain".
///
/// Single-task models, the multitask models and the baselines all train on the reduced data.
public enum ColdDomainProtocol {
    /// The segment of domain d's probes, and the pooled one.
    public static func segment(_ domain: String) -> String { "cold-in-domain:\(domain)" }
    public static let pooledSegment = "cold-in-domain"

    public struct Configuration: Sendable, Equatable {
        /// Probe targets to reach in each domain (fewer only when too few users qualify).
        public var targetsPerDomain: Int
        /// Probes per user at most, the earliest, so that a few heavy users do not make a domain's figure.
        public var maxTargetsPerUser: Int
        /// Training events outside the domain a user needs to be picked.
        public var warmMinimum: Int
        /// Seeds the order in which users are drawn.
        public var seed: UInt64

        public init(targetsPerDomain: Int = 1_100, maxTargetsPerUser: Int = 10, warmMinimum: Int = 5, seed: UInt64 = 1) {
            self.targetsPerDomain = targetsPerDomain
            self.maxTargetsPerUser = maxTargetsPerUser
            self.warmMinimum = warmMinimum
            self.seed = seed
        }

        var description: String {
            "per domain, users with training events there and \(warmMinimum)+ elsewhere drawn (seed \(seed)) until "
                + "\(targetsPerDomain) of their test events there (at most \(maxTargetsPerUser) each) are targets; "
                + "all their events in that domain removed from training and inputs"
        }
    }

    /// The reduced split with its probes (``ChronologicalSplit/coldProbes``).
    public static func apply(to split: ChronologicalSplit, configuration c: Configuration) -> ChronologicalSplit {
        precondition(c.targetsPerDomain >= 1 && c.maxTargetsPerUser >= 1 && c.warmMinimum >= 0, "invalid cold protocol settings")
        let dataset = split.dataset
        let domainCount = dataset.domains.count
        var coldDomain = [Int?](repeating: nil, count: dataset.userCount)
        for d in 0..<domainCount {
            var eligible: [Int] = []
            var probesOf: [Int: Int] = [:]
            for u in 0..<dataset.userCount where coldDomain[u] == nil {
                let sequence = dataset.sequences[u], length = split.trainingLength[u]
                var inDomain = 0, elsewhere = 0, tests = 0
                for p in 0..<length { if dataset.itemDomain[sequence[p]] == d { inDomain += 1 } else { elsewhere += 1 } }
                for p in length..<sequence.count where dataset.itemDomain[sequence[p]] == d { tests += 1 }
                if inDomain > 0, elsewhere >= c.warmMinimum, tests > 0 {
                    eligible.append(u)
                    probesOf[u] = min(tests, c.maxTargetsPerUser)
                }
            }
            Trainer.shuffle(&eligible, seed: Trainer.mix(c.seed, UInt64(d)))
            var reached = 0
            for u in eligible where reached < c.targetsPerDomain {
                coldDomain[u] = d
                reached += probesOf[u]!
            }
        }

        // Users keep their index; a cold user loses every event of their cold domain.
        var sequences: [[Int]] = [], timestamps: [[Int64]] = [], types: [[Medley_V1_EventType]] = []
        var userIDs = dataset.userIDs
        var lengths: [Int] = []
        var probes: [(user: Int, domain: Int, positions: [Int])] = []
        for u in 0..<dataset.userCount {
            let sequence = dataset.sequences[u]
            guard let d = coldDomain[u] else {
                sequences.append(sequence)
                timestamps.append(dataset.timestamps[u])
                types.append(dataset.eventTypes[u])
                lengths.append(split.trainingLength[u])
                continue
            }
            let kept = sequence.indices.filter { dataset.itemDomain[sequence[$0]] != d }
            sequences.append(kept.map { sequence[$0] })
            timestamps.append(kept.map { dataset.timestamps[u][$0] })
            types.append(kept.map { dataset.eventTypes[u][$0] })
            lengths.append(kept.filter { $0 < split.trainingLength[u] }.count)
            let targets = (split.trainingLength[u]..<sequence.count).filter { dataset.itemDomain[sequence[$0]] == d }
            probes.append((u, d, Array(targets.prefix(c.maxTargetsPerUser))))
        }
        var coldProbes: [Int: Int] = [:]
        for (u, d, positions) in probes {
            let sequence = dataset.sequences[u]
            for target in positions {
                let before = (0..<target).filter { dataset.itemDomain[sequence[$0]] != d } + [target]
                coldProbes[sequences.count] = d
                sequences.append(before.map { sequence[$0] })
                timestamps.append(before.map { dataset.timestamps[u][$0] })
                types.append(before.map { dataset.eventTypes[u][$0] })
                userIDs.append(dataset.userIDs[u])
                lengths.append(0)
            }
        }
        let reduced = SequenceDataset(domains: dataset.domains, itemIDs: dataset.itemIDs, itemDomain: dataset.itemDomain,
                                      domainRanges: dataset.domainRanges, userIDs: userIDs, sequences: sequences,
                                      timestamps: timestamps, eventTypes: types)
        // A probe's only target is its last event.
        let firstTargets = sequences.indices.map { coldProbes[$0] != nil ? sequences[$0].count - 1 : lengths[$0] }
        var result = ChronologicalSplit(dataset: reduced, cut: split.cut, trainingLength: lengths, firstTargets: firstTargets)
        result.coldProbes = coldProbes
        result.coldProtocol = c
        return result
    }
}
