import MedleySystem

/// How a domain list mixes in the session head (models/README.md, "Scores and lists").
///
/// With share λ (``ModelFileContents/domainListSessionShare``), domain t's list ranks its items
/// by (1 − λ) × the domain head's score + λ × the session head's blended score. The model part
/// is one query, q = (1 − λ) q_t + λ q_s, scored as q · e_i + b_i, so a domain list costs what
/// the domain head alone costs; an item the session blend changes (``BlendAddition``) then gains
/// λ × its change. The session head reads every domain and carries the sequential rules, which
/// a domain head does not: mixing it in is how a domain list uses what the other heads learned.
public struct DomainListBlend: Sendable {
    /// λ, in [0, 1].
    public let share: Float
    /// The session head's blend, whose changes the domain lists take λ of.
    public let rules: SequentialRulesTable?

    public init(share: Float, rules: SequentialRulesTable?) {
        precondition(share >= 0 && share <= 1, "a session share of \(share) is outside [0, 1]")
        self.share = share
        self.rules = rules
    }

    /// Whether the domain lists are the domain heads' own.
    public var isIdentity: Bool { share == 0 }

    /// `count` queries of domain lists, row-major: `(1 − λ) × domain + λ × session`, element by
    /// element in float32 in that order; the domain queries themselves when λ is 0.
    public func queries(domain: [Float], session: [Float], count: Int, dimension d: Int) -> [Float] {
        precondition(domain.count == count * d && session.count == count * d, "query sizes disagree")
        guard share != 0 else { return domain }
        let own = 1 - share
        var mixed = [Float](repeating: 0, count: count * d)
        for k in mixed.indices { mixed[k] = own * domain[k] + share * session[k] }
        return mixed
    }

    /// The additions that fall in `rows` (a domain's block), from an input's additions in row order.
    public func additions(_ all: [BlendAddition], in rows: Range<Int>) -> ArraySlice<BlendAddition> {
        guard share != 0, rules != nil else { return [] }
        let start = all.partitioningIndex { $0.row >= rows.lowerBound }
        let end = all[start...].partitioningIndex { $0.row >= rows.upperBound }
        return all[start..<end]
    }

    /// Adds the list's share of the blend's changes (`all`: an input's additions, in row order)
    /// to a domain block's mixed model scores: `scores[offset + j]` is row `rows.lowerBound + j`.
    public func blend(_ scores: inout [Float], offset: Int = 0, rows: Range<Int>, additions all: [BlendAddition]) {
        for addition in additions(all, in: rows) {
            let j = offset + addition.row - rows.lowerBound
            scores[j] = blended(scores[j], addition)
        }
    }

    /// An item's domain-list score from its mixed model score `q · e_i + b_i`: plus λ × (weight ×
    /// boost, plus the repeat bias when the input holds it), in float32 in that order.
    @inline(__always)
    public func blended(_ mixedModelScore: Float, _ addition: BlendAddition) -> Float {
        guard let rules else { return mixedModelScore }
        return mixedModelScore + share * addition.change(weight: rules.weight, repeatBias: rules.repeatBias)
    }

    /// How many items of a domain's model list the repeat bias can push below others (the
    /// session list's rule, ``SequentialRulesTable/demotedCount(among:excluded:)``, over the
    /// domain's additions).
    public func demotedCount(among additions: ArraySlice<BlendAddition>, excluded: Set<Int>) -> Int {
        guard share != 0, let rules else { return 0 }
        return rules.demotedCount(among: additions, excluded: excluded)
    }
}
