/// Sequential rules blended into the session head's scores: what production recommenders do
/// when a counting rule knows something the learned model does not (small data, rare items).
///
/// A rule i → j holds the strength of "j follows i within a few steps of a sequence" (for the
/// trainer's rules, a user's training sequence across session gaps) in the training data
/// (sequential rules, Ludewig and Jannach 2018: 1/d for each time j follows i at a distance
/// d ≤ `steps`), scaled so that each item's strongest rule is 1; each item keeps its strongest
/// `rulesPerItem` rules. The session head's score of item j for an input whose
/// anchor item is i (``SequentialRulesAnchor``: the newest session item, or the user's newest
/// item across sessions) becomes `model score + weight × strength(i → j)`; the weight is
/// fitted on the validation examples when the model is trained (0 when the rules do not help).
/// Stored as compressed rows (models/README.md, "Sequential rules").
public struct SequentialRulesTable: Sendable, Equatable {
    /// The largest distance that made a rule.
    public let steps: Int
    /// How much a rule's strength adds to the session head's score.
    public var weight: Float
    /// Which of the input's items the rules start from.
    public var anchor: SequentialRulesAnchor
    /// The rules of item row i are `targets`/`strengths` at `rowStart[i]..<rowStart[i + 1]`,
    /// strongest first.
    public let rowStart: [Int32]
    public let targets: [Int32]
    public let strengths: [Float]

    /// Checks the rows against a catalogue of `itemCount` items: `rowStart` has one entry more
    /// than there are items, starts at 0, never decreases and ends at the number of rules;
    /// every target is a row of the catalogue; every strength is in (0, 1]; the weight and the
    /// steps are in range.
    public init(steps: Int, weight: Float, anchor: SequentialRulesAnchor, rowStart: [Int32], targets: [Int32],
                strengths: [Float], itemCount: Int) throws(ModelFileError) {
        func bad(_ reason: String) -> ModelFileError { .invalidMetadata(key: "session_rules", reason: reason) }
        guard steps >= 1 else { throw bad("steps must be at least 1, not \(steps)") }
        guard weight.isFinite, weight >= 0 else { throw bad("the weight must be finite and not negative, not \(weight)") }
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
        self.steps = steps
        self.weight = weight
        self.anchor = anchor
        self.rowStart = rowStart
        self.targets = targets
        self.strengths = strengths
    }

    /// Learns the rules from sessions of item rows (each in time order): every pair j after i
    /// at a distance d ≤ `steps` in one session adds 1/d to i → j (a repeat of the same item
    /// is not a transition); each item keeps its `rulesPerItem` strongest rules (ties: lower
    /// row first), scaled so that the strongest is 1. The weight starts at 0.
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

    /// The row the rules start from for `input` (by ``anchor``), or nil when there is none.
    public func anchorRow(for input: EncodedInput) -> Int? {
        anchor.row(for: input)
    }

    /// Adds `weight × strength` to the scores of the rules' targets from the input's anchor
    /// item; nothing when it has none or the weight is 0. `scores` covers the whole catalogue.
    public func blend(_ scores: inout [Float], for input: EncodedInput, weight: Float? = nil) {
        let w = weight ?? self.weight
        guard let row = anchorRow(for: input), w > 0 else { return }
        for r in rules(from: row) { scores[Int(targets[r])] += w * strengths[r] }
    }
}
