/// One recommended item.
public struct Recommendation: Sendable, Equatable {
    public var item: ItemReference
    /// The item's row in the item table.
    public var row: Int
    /// The head's score, `q · e + b` (a logit: higher is better).
    public var score: Float

    public init(item: ItemReference, row: Int, score: Float) {
        self.item = item
        self.row = row
        self.score = score
    }
}

/// How many items each list holds.
public struct RecommendationOptions: Sendable, Equatable {
    /// Items per domain list.
    public var perDomain: Int
    /// Items in the session head's cross-domain list.
    public var session: Int
    /// Items in the blended cross-domain list (at most `perDomain × domains`).
    public var blended: Int

    public init(perDomain: Int = 10, session: Int = 10, blended: Int = 10) {
        self.perDomain = perDomain
        self.session = session
        self.blended = blended
    }
}

/// The model's answer for one input.
public struct Recommendations: Sendable, Equatable {
    /// Domain names, aligned with `perDomain` and `nextDomainProbabilities`.
    public var domains: [String]
    /// Each domain head's top items, best first (ties: lower row first).
    public var perDomain: [[Recommendation]]
    /// The session head's top items over all domains.
    public var session: [Recommendation]
    /// The next-domain classifier's probabilities.
    public var nextDomainProbabilities: [Float]
    /// The domain lists blended by the next-domain probabilities (see ``blend(lists:probabilities:count:)``).
    public var blended: [Recommendation]

    /// The list of a domain by name.
    public func list(for domain: String) -> [Recommendation]? {
        domains.firstIndex(of: domain).map { perDomain[$0] }
    }

    /// Blends ranked domain lists into one list by the D'Hondt rule: entry r (0-based) of
    /// domain t has priority `p_t / (r + 1)`, and the blended list takes entries by decreasing
    /// priority (ties: lower domain index). Each domain's share of the list is thus
    /// proportional to its probability, and its items keep their order.
    public static func blend(lists: [[Recommendation]], probabilities: [Float], count: Int) -> [Recommendation] {
        precondition(lists.count == probabilities.count, "one probability per list")
        var next = [Int](repeating: 0, count: lists.count)
        var result: [Recommendation] = []
        while result.count < count {
            var best: Int?
            var bestPriority: Float = 0
            for t in lists.indices where next[t] < lists[t].count {
                let priority = probabilities[t] / Float(next[t] + 1)
                if best == nil || priority > bestPriority {
                    best = t
                    bestPriority = priority
                }
            }
            guard let t = best else { break }
            result.append(lists[t][next[t]])
            next[t] += 1
        }
        return result
    }
}

extension Recommendation {
    /// Whether two ranked lists are the same list but for items whose scores lie within
    /// float32 rounding of each other: the same length and, rank by rank, scores within
    /// `relativeTolerance` (of the score, or of 1 for scores below it). Two scoring paths that
    /// sum a dot product in different orders (sgemv against the candidates' re-scoring) give
    /// such items in either order; a list that missed an item scoring clearly above its last
    /// differs by more.
    public static func listsMatchUpToRounding(_ a: [Recommendation], _ b: [Recommendation],
                                              relativeTolerance: Float = 1e-5) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { abs($0.score - $1.score) <= relativeTolerance * max(1, abs($1.score)) }
    }
}
