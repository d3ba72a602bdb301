/// Sequential rules blended into the session head's scores: what production recommenders do
/// when a counting rule knows something the learned model does not (small data, rare items).
///
/// A rule i → j holds the strength of "j follows i within a few steps of a sequence" (for the
/// trainer's rules, a user's training sequence across session gaps) in the training data
/// (sequential rules, Ludewig and Jannach 2018: 1/d for each time j follows i at a distance
/// d ≤ `steps`), scaled so that each item's strongest rule is 1; each item keeps its strongest
/// `rulesPerItem` rules. The session head's score of item j for an input whose
/// anchor items, newest first, are i₁ … i_D (``SequentialRulesAnchor``: the newest session
/// items, or the user's newest items across sessions; D = ``depth``) becomes
/// `model score + weight × Σ_k strength(i_k → j) / k`, and then, when the input already holds
/// j (``repeatRows(for:)``), `+ repeatBias`: negative where users seldom come back to an item
/// (a film rated once), positive where they do (a song played again). The depth, the weight and
/// the repeat bias are fitted on the validation examples when the model is trained (weight and
/// bias 0 when neither helps). Stored as compressed rows (models/README.md, "Sequential rules").
public struct SequentialRulesTable: Sendable, Equatable {
    /// The largest distance that made a rule.
    public let steps: Int
    /// How much a rule's strength adds to the session head's score.
    public var weight: Float
    /// Which of the input's items the rules start from.
    public var anchor: SequentialRulesAnchor
    /// How many of the input's newest items the rules start from; the k-th newest counts 1/k.
    public var depth: Int
    /// What the session head adds to the score of an item the input already holds.
    public var repeatBias: Float
    /// The largest depth a model file may hold (the encoders keep this many history items).
    public static let maxDepth = 10
    /// The rules of item row i are `targets`/`strengths` at `rowStart[i]..<rowStart[i + 1]`,
    /// strongest first.
    public let rowStart: [Int32]
    public let targets: [Int32]
    public let strengths: [Float]
    /// Each item's rules in the order of their targets' rows: entries `rowStart[i]..<rowStart[i + 1]`
    /// are indices into `targets`/`strengths`. (Derived; lets ``boosts(for:depth:)`` merge
    /// several items' rules in one pass.)
    private let byTarget: [Int32]

    /// Checks the rows against a catalogue of `itemCount` items: `rowStart` has one entry more
    /// than there are items, starts at 0, never decreases and ends at the number of rules;
    /// every target is a row of the catalogue, at most once among an item's rules; every
    /// strength is in (0, 1]; the weight, the repeat bias, the steps and the depth are in range.
    public init(steps: Int, weight: Float, anchor: SequentialRulesAnchor, depth: Int = 1, repeatBias: Float = 0,
                rowStart: [Int32], targets: [Int32], strengths: [Float], itemCount: Int) throws(ModelFileError) {
        func bad(_ reason: String) -> ModelFileError { .invalidMetadata(key: "session_rules", reason: reason) }
        guard steps >= 1 else { throw bad("steps must be at least 1, not \(steps)") }
        guard weight.isFinite, weight >= 0 else { throw bad("the weight must be finite and not negative, not \(weight)") }
        guard repeatBias.isFinite else { throw bad("the repeat bias must be finite, not \(repeatBias)") }
        guard (1...Self.maxDepth).contains(depth) else { throw bad("the depth must be in 1...\(Self.maxDepth), not \(depth)") }
        guard rowStart.count == itemCount + 1 else {
            throw bad("row_start has \(rowStart.count) entries for \(itemCount) items (expected \(itemCount + 1))")
        }
        guard targets.count == strengths.count else { throw bad("\(targets.count) targets but \(strengths.count) strengths") }
        guard rowStart.first == 0, Int(rowStart.last!) == targets.count else {
            throw bad("row_start must start at 0 and end at the number of rules, \(targets.count)")
        }
        for i in 0..<itemCount where rowStart[i] > rowStart[i + 1] {
            throw bad("row_start decreases at item row \(i)")
        }
        if let t = targets.firstIndex(where: { $0 < 0 || Int($0) >= itemCount }) {
            throw bad("rule \(t) points at item row \(targets[t]), outside the \(itemCount) items")
        }
        if let s = strengths.firstIndex(where: { !($0 > 0 && $0 <= 1) }) {
            throw bad("rule \(s) has strength \(strengths[s]), outside (0, 1]")
        }
        let byTarget = Self.orderByTarget(rowStart: rowStart, targets: targets)
        for i in 0..<itemCount {
            let rules = Int(rowStart[i])..<Int(rowStart[i + 1])
            for p in rules.dropFirst() where targets[Int(byTarget[p])] == targets[Int(byTarget[p - 1])] {
                throw bad("item row \(i) has two rules to item row \(targets[Int(byTarget[p])])")
            }
        }
        self.steps = steps
        self.weight = weight
        self.anchor = anchor
        self.depth = depth
        self.repeatBias = repeatBias
        self.rowStart = rowStart
        self.targets = targets
        self.strengths = strengths
        self.byTarget = byTarget
    }

    /// Each item's rule indices sorted by target row.
    private static func orderByTarget(rowStart: [Int32], targets: [Int32]) -> [Int32] {
        var order = (0..<Int32(targets.count)).map { $0 }
        for i in 0..<(rowStart.count - 1) {
            order[Int(rowStart[i])..<Int(rowStart[i + 1])].sort { targets[Int($0)] < targets[Int($1)] }
        }
        return order
    }

    /// Learns the rules from sessions of item rows (each in time order): every pair j after i
    /// at a distance d ≤ `steps` in one session adds 1/d to i → j (a repeat of the same item
    /// is not a transition); each item keeps its `rulesPerItem` strongest rules (ties: lower
    /// row first), scaled so that the strongest is 1. The weight and the repeat bias start at
    /// 0, the depth at 1.
    public init(sessions: [[Int]], itemCount: Int, steps: Int = 10, rulesPerItem: Int = 50,
                anchor: SequentialRulesAnchor = .newestItem) {
        precondition(rulesPerItem >= 1)
        var rowStart: [Int32] = [0]
        var targets: [Int32] = []
        var strengths: [Float] = []
        for row in Self.count(sessions: sessions, itemCount: itemCount, steps: steps) {
            let kept = row.prefix(rulesPerItem)
            let strongest = kept.first?.weight ?? 1
            targets.append(contentsOf: kept.map(\.target))
            strengths.append(contentsOf: kept.map { $0.weight / strongest })
            rowStart.append(Int32(targets.count))
        }
        self.steps = steps
        self.weight = 0
        self.anchor = anchor
        self.depth = 1
        self.repeatBias = 0
        self.byTarget = Self.orderByTarget(rowStart: rowStart, targets: targets)
        self.rowStart = rowStart
        self.targets = targets
        self.strengths = strengths
    }

    /// The rules of each item row, unscaled and strongest first (ties: lower row first): every
    /// pair j after i at a distance d ≤ `steps` in one session adds 1/d to i → j; a repeat of
    /// the same item is not a transition. What both the table and the sequential-rules
    /// baseline count.
    public static func count(sessions: [[Int]], itemCount: Int, steps: Int) -> [[(target: Int32, weight: Float)]] {
        precondition(steps >= 1)
        var rows = [[Int32: Float]](repeating: [:], count: itemCount)
        for items in sessions {
            for (q, item) in items.enumerated() {
                for d in stride(from: 1, through: min(steps, q), by: 1) where items[q - d] != item {
                    rows[items[q - d]][Int32(item), default: 0] += 1 / Float(d)
                }
            }
        }
        return rows.map { row in
            row.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { (target: $0.key, weight: $0.value) }
        }
    }

    public var itemCount: Int { rowStart.count - 1 }
    public var ruleCount: Int { targets.count }

    /// The rules from item row `row`, strongest first.
    public func rules(from row: Int) -> Range<Int> {
        Int(rowStart[row])..<Int(rowStart[row + 1])
    }

    /// The rows the rules start from for `input` (by ``anchor``), newest first: at most ``depth``.
    public func anchorRows(for input: EncodedInput, depth: Int? = nil) -> [Int] {
        anchor.rows(for: input, depth: depth ?? self.depth)
    }

    /// What the rules add to each of their targets' scores before the weight, one entry per
    /// target in row order: `Σ_k strength(anchor_k → j) / k` over the anchors, newest (k = 1)
    /// first, summed in that order in float32 (as the model file's reference computes it).
    /// This runs for every served request: each anchor's rules, already in target order, are
    /// merged into the running sums in one pass, newest anchor first.
    public func boosts(for input: EncodedInput, depth: Int? = nil) -> [(row: Int, boost: Float)] {
        var sums: [(row: Int, boost: Float)] = []
        var merged: [(row: Int, boost: Float)] = []
        for (k, anchorRow) in anchorRows(for: input, depth: depth).enumerated() {
            let divisor = Float(k + 1)
            let rules = rules(from: anchorRow)
            merged.removeAll(keepingCapacity: true)
            merged.reserveCapacity(sums.count + rules.count)
            var i = 0
            for p in rules {
                let r = Int(byTarget[p])
                let row = Int(targets[r]), share = strengths[r] / divisor
                while i < sums.count && sums[i].row < row {
                    merged.append(sums[i])
                    i += 1
                }
                if i < sums.count && sums[i].row == row {
                    merged.append((row, sums[i].boost + share))
                    i += 1
                } else {
                    merged.append((row, share))
                }
            }
            merged.append(contentsOf: sums[i...])
            swap(&sums, &merged)
        }
        return sums
    }

    /// The items the repeat bias applies to, in row order, each once: the input's known
    /// session items and the user's newest known history items (at most ``maxDepth``, the
    /// history the encoders keep for every user; ``EncodedInput/recentHistoryRows``).
    public static func repeatRows(for input: EncodedInput) -> [Int] {
        // Sorted and deduplicated in place: a few dozen rows, for which hashing costs more.
        var rows = input.sessionRows + input.recentHistoryRows
        rows.sort()
        var kept = 0
        for row in rows where kept == 0 || rows[kept - 1] != row {
            rows[kept] = row
            kept += 1
        }
        rows.removeLast(rows.count - kept)
        return rows
    }

    /// What the blend changes for `input`, one entry per item in row order: the items the rules
    /// reach from the anchors (``boosts(for:depth:)``; boost 0 for the others) and the items
    /// the input holds (`repeated`, ``repeatRows(for:)``). Empty when the weight and the repeat
    /// bias are both 0.
    public func additions(for input: EncodedInput) -> [BlendAddition] {
        Self.merge(boosts: weight > 0 ? boosts(for: input) : [], repeated: repeatBias != 0 ? Self.repeatRows(for: input) : [])
    }

    /// The rules' boosts (row order) and the repeated rows (row order) as one list of additions
    /// in row order.
    public static func merge(boosts: [(row: Int, boost: Float)], repeated: [Int]) -> [BlendAddition] {
        var additions: [BlendAddition] = []
        additions.reserveCapacity(boosts.count + repeated.count)
        var r = 0
        for (row, boost) in boosts {
            while r < repeated.count && repeated[r] < row {
                additions.append(BlendAddition(row: repeated[r], boost: 0, repeated: true))
                r += 1
            }
            let isRepeated = r < repeated.count && repeated[r] == row
            if isRepeated { r += 1 }
            additions.append(BlendAddition(row: row, boost: boost, repeated: isRepeated))
        }
        for row in repeated[r...] { additions.append(BlendAddition(row: row, boost: 0, repeated: true)) }
        return additions
    }

    /// An item's session score after the blend: `(model score + weight × boost) + repeat bias`
    /// when the input holds it, in float32 in that order (as the model file's reference computes it).
    @inline(__always)
    public func blended(_ modelScore: Float, _ addition: BlendAddition) -> Float {
        addition.blended(modelScore, weight: weight, repeatBias: repeatBias)
    }

    /// The most the blend can move one score: `weight × (1 + 1/2 + … + 1/depth) + |repeat bias|`.
    public var largestAddition: Float {
        weight * (1...depth).reduce(Float(0)) { $0 + 1 / Float($1) } + abs(repeatBias)
    }

    /// How many items of a model's list the repeat bias can push below others, given an input's
    /// ``additions(for:)`` and excluded rows: a served list of K items is exact when it is
    /// chosen from the model's top K + this many (0 unless the bias is negative).
    public func demotedCount(among additions: some Collection<BlendAddition>, excluded: Set<Int>) -> Int {
        guard repeatBias < 0 else { return 0 }
        return additions.count { $0.repeated && !excluded.contains($0.row) }
    }

    /// Blends the rules and the repeat bias into `scores`, which cover the whole catalogue.
    public func blend(_ scores: inout [Float], for input: EncodedInput) {
        blend(&scores, additions: additions(for: input))
    }

    /// Blends an input's ``additions(for:)``, already found, into `scores` (the whole catalogue).
    public func blend(_ scores: inout [Float], additions: [BlendAddition]) {
        for addition in additions { scores[addition.row] = blended(scores[addition.row], addition) }
    }
}

/// One item's change in the session head's blend (``SequentialRulesTable/additions(for:)``).
public struct BlendAddition: Sendable, Equatable {
    public var row: Int
    /// Σ_k strength(anchor_k → row) / k; 0 when no rule reaches the item.
    public var boost: Float
    /// Whether the input holds the item (the repeat bias applies).
    public var repeated: Bool

    public init(row: Int, boost: Float, repeated: Bool) {
        self.row = row
        self.boost = boost
        self.repeated = repeated
    }

    /// `(model score + weight × boost) + repeat bias` when the input holds the item, in float32
    /// in that order.
    @inline(__always)
    public func blended(_ modelScore: Float, weight: Float, repeatBias: Float) -> Float {
        let score = modelScore + weight * boost
        return repeated ? score + repeatBias : score
    }

    /// What the blend adds to the item's session score: `weight × boost`, plus the repeat bias
    /// when the input holds the item, in float32 in that order (a domain list takes its share
    /// of it, ``DomainListBlend``).
    @inline(__always)
    public func change(weight: Float, repeatBias: Float) -> Float {
        let change = weight * boost
        return repeated ? change + repeatBias : change
    }
}
