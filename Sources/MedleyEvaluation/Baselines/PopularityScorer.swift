/// Scores items by how often they occur in the training data.
///
/// `.global` ranks the whole catalogue by count (restricted to one domain, this is that
/// domain's popularity list). `.lastItemDomain` puts the items of the domain of the user's
/// most recent item first, each domain's items by count: the domain-aware popularity
/// baseline for cross-domain "what next" lists.
public struct PopularityScorer: Scorer {
    /// Which popularity list to use.
    public enum Scope: String, Sendable {
        /// One list over every item.
        case global
        /// The last item's domain first, then every other item.
        case lastItemDomain
    }

    public let name: String
    private let scope: Scope
    private let counts: [Float]
    private let itemDomain: [Int]
    private let domainRanges: [Range<Int>]
    // Added to the counts of the preferred domain; larger than any count, so that domain
    // comes first. Counts stay exact in Float up to 2^24 / 2 occurrences of one item.
    private let domainOffset: Float

    public init(training: TrainingSequences, scope: Scope = .global) {
        var counts = [Float](repeating: 0, count: training.itemCount)
        for sequence in training.sequences {
            for item in sequence { counts[item] += 1 }
        }
        self.name = scope == .global ? "popularity" : "popularity (last item's domain)"
        self.scope = scope
        self.counts = counts
        self.itemDomain = training.itemDomain
        self.domainRanges = training.domainRanges
        self.domainOffset = (counts.max() ?? 0) + 1
    }

    public func scores(forHistory history: [Int], user: Int) -> [Float] {
        guard scope == .lastItemDomain, let last = history.last else { return counts }
        var scores = counts
        for i in domainRanges[itemDomain[last]] { scores[i] += domainOffset }
        return scores
    }
}
