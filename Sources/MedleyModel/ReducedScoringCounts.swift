import Synchronization

/// How the candidates of reduced-precision scoring fared (``ItemScorer``), counted across every
/// thread that scores with one model: lists whose candidates were checked against the int8
/// table's error bound, those the check could not clear, which were tried again with more
/// candidates, and those that failed that too, which were scored in float32 over every row of
/// their block. The last two over the first are what the bound costs on a model's catalogue.
public final class ReducedScoringCounts: Sendable {
    private let checked = Atomic<Int>(0)
    private let retried = Atomic<Int>(0)
    private let scoredInFull = Atomic<Int>(0)

    public init() {}

    /// Lists (one query over one block of rows) whose candidates were checked.
    public var listsChecked: Int { checked.load(ordering: .relaxed) }
    /// Of those, lists tried again with more candidates.
    public var listsRetried: Int { retried.load(ordering: .relaxed) }
    /// Of those, lists scored in float32 over every row of the block.
    public var listsScoredInFull: Int { scoredInFull.load(ordering: .relaxed) }

    func record(checked lists: Int, retried again: Int, scoredInFull full: Int) {
        guard lists > 0 else { return }
        checked.add(lists, ordering: .relaxed)
        if again > 0 { retried.add(again, ordering: .relaxed) }
        if full > 0 { scoredInFull.add(full, ordering: .relaxed) }
    }
}
