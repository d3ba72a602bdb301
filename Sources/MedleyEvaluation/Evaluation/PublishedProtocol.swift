import MedleyTraining
/// The published-protocol data preparation, stated exactly (design.md, "Data and
/// evaluation") so that figures can be checked against other implementations:
///
/// 1. keep interactions rated at least 3;
/// 2. drop users and items with fewer than 10 interactions, repeating until none is left;
/// 3. order each user's interactions by timestamp, ties in file order;
/// 4. the last interaction is the test target, the one before it validation, the rest training.
///
/// On MovieLens-1M this leaves 834,449 interactions (6,033 users, 3,123 items).
public enum PublishedProtocol {
    /// Ratings below this are dropped.
    public static let minimumRating = 3.0
    /// Users and items with fewer interactions are dropped, repeatedly.
    public static let coreSize = 10
    /// The number of items before the target that form the input.
    public static let historyLength = 50

    /// Steps 1 and 2: the interactions kept, in their input order. An interaction without a
    /// rating is dropped by a rating minimum.
    public static func filter(_ interactions: [Interaction], minimumRating: Double? = PublishedProtocol.minimumRating,
                              coreSize: Int = PublishedProtocol.coreSize) -> [Interaction] {
        var kept = interactions
        if let minimumRating {
            kept.removeAll { ($0.rating ?? -.infinity) < minimumRating }
        }
        return kCore(kept, minimumCount: coreSize)
    }

    /// Drops every interaction whose user or item has fewer than `minimumCount` interactions,
    /// both counted on the same pass, and repeats until a pass drops nothing (dropping one
    /// user's rows can bring an item below the minimum, and the other way round).
    public static func kCore(_ interactions: [Interaction], minimumCount: Int) -> [Interaction] {
        var kept = interactions
        while true {
            var userCounts: [String: Int] = [:]
            var itemCounts: [String: Int] = [:]
            for interaction in kept {
                userCounts[interaction.user, default: 0] += 1
                itemCounts[interaction.item, default: 0] += 1
            }
            let before = kept.count
            kept.removeAll { userCounts[$0.user]! < minimumCount || itemCounts[$0.item]! < minimumCount }
            if kept.count == before { return kept }
        }
    }

    /// Steps 1 to 4 on a data set's interactions; `itemDomains` gives each item its domain
    /// (it does not affect the protocol, only per-domain reporting).
    public static func split(_ interactions: [Interaction], itemDomains: [String: String] = [:],
                             mapping: GenreDomainMapping = .movieLensV1,
                             minimumRating: Double? = PublishedProtocol.minimumRating,
                             coreSize: Int = PublishedProtocol.coreSize) -> LeaveOneOutSplit {
        let kept = filter(interactions, minimumRating: minimumRating, coreSize: coreSize)
        return LeaveOneOutSplit(dataset: SequenceDataset(interactions: kept, itemDomains: itemDomains, mapping: mapping))
    }
}

/// Which held-out interaction of a leave-one-out split is predicted.
public enum LeaveOneOutTarget: String, Sendable, Codable {
    /// Each user's last interaction; the input includes the validation interaction.
    case test
    /// Each user's second-to-last interaction.
    case validation
}

/// A leave-one-out split: per user, the last interaction is the test target, the one before
/// it the validation target, and the rest training.
public struct LeaveOneOutSplit: Sendable {
    /// The filtered data, each user's sequence in order; users with fewer than 3 interactions
    /// are not evaluated (none are left after a 10-core filter).
    public let dataset: SequenceDataset
    /// The training part: all but each user's last two interactions.
    public let training: TrainingSequences

    public init(dataset: SequenceDataset) {
        self.dataset = dataset
        self.training = TrainingSequences(dataset: dataset, trainingLength: dataset.sequences.map { max(0, $0.count - 2) })
    }

    /// The users that have a test target (at least 3 interactions).
    public var evaluatedUsers: [Int] {
        dataset.sequences.indices.filter { dataset.sequences[$0].count >= 3 }
    }

    /// The position of a user's target in their sequence.
    public func targetPosition(user: Int, target: LeaveOneOutTarget) -> Int {
        dataset.sequences[user].count - (target == .test ? 1 : 2)
    }

    /// The query for a user's target: the last `historyLength` items before it.
    public func query(user: Int, target: LeaveOneOutTarget, historyLength: Int = PublishedProtocol.historyLength) -> ScoringQuery {
        let position = targetPosition(user: user, target: target)
        let sequence = dataset.sequences[user]
        return ScoringQuery(user: user, history: Array(sequence[max(0, position - historyLength)..<position]), targetPosition: position)
    }
}
