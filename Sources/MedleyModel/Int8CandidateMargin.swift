import Synchronization

/// How many candidates an int8 list keeps (``ItemScorer``), chosen by the model's own catalogue:
/// a narrow margin (k + 16) while nearly every list clears its check with it, the wide one
/// (``ItemScorer/candidateCount(forListLength:)``) for good once more than
/// ``wideningRetryShare`` of the lists scored under the narrow margin (at least
/// ``sampleLists`` of them) needed a retry. Fewer candidates cost every list less heap work
/// and re-scoring; a retry costs its list another int8 pass over its block. The lists are the
/// float32 lists either way: only the time differs (BENCHMARKS.md measures both catalogues).
public final class Int8CandidateMargin: Sendable {
    private let narrowChecked = Atomic<Int>(0)
    private let narrowRetried = Atomic<Int>(0)
    private let wide = Atomic<Bool>(false)

    /// Lists scored under the narrow margin before it can be given up.
    static let sampleLists = 2_000
    /// The share of those lists needing a retry above which the margin widens.
    static let wideningRetryShare = 0.02

    public init() {}

    /// Whether lists keep the wide margin now.
    public var isWide: Bool { wide.load(ordering: .relaxed) }

    /// Candidates a list of `k` keeps under the narrow margin.
    static func narrowCount(forListLength k: Int) -> Int { k <= 0 ? 0 : k + 16 }

    /// Candidates a list of `k` keeps under the margin `wide` says.
    static func candidateCount(forListLength k: Int, wide: Bool) -> Int {
        wide ? ItemScorer.candidateCount(forListLength: k) : narrowCount(forListLength: k)
    }

    /// After a pass under the narrow margin: `lists` checked, `retried` of them tried again.
    func recordNarrow(checked lists: Int, retried: Int) {
        guard lists > 0 else { return }
        let checked = narrowChecked.add(lists, ordering: .relaxed).newValue
        let retriedSoFar = narrowRetried.add(retried, ordering: .relaxed).newValue
        if checked >= Self.sampleLists && Double(retriedSoFar) > Self.wideningRetryShare * Double(checked) {
            wide.store(true, ordering: .relaxed)
        }
    }
}
