/// What an evaluation asks a scorer: the scores of every catalogue item for one user at one
/// point of their history.
public struct ScoringQuery: Sendable, Equatable {
    /// The user's index in the evaluated ``SequenceDataset``.
    public var user: Int
    /// The items before the target, oldest first, at most the evaluation's history length.
    public var history: [Int]
    /// The target's position in the user's full sequence: a scorer that keeps the data set
    /// can read event types and times of `sequences[user][..<targetPosition]` from there.
    public var targetPosition: Int

    public init(user: Int, history: [Int], targetPosition: Int) {
        self.user = user
        self.history = history
        self.targetPosition = targetPosition
    }
}

/// Anything the evaluation can rank items with: baselines now, the trained model later.
///
/// Scores are per item index of the evaluated data set, higher is better; only the order of
/// scores matters, and equal scores are ties (a tie with the target counts half a rank). A
/// NaN score ranks below every number.
public protocol Scorer: Sendable {
    /// The name in reports.
    var name: String { get }

    /// The score of every item for a user whose recent items are `history` (oldest first).
    func scores(forHistory history: [Int], user: Int) -> [Float]

    /// The scores for a batch of queries, in query order. The evaluation calls this form,
    /// from several threads at once, with batches of a few dozen queries; a model that scores
    /// with matrix products overrides it. The default calls the single form for each.
    func scores(for queries: [ScoringQuery]) -> [[Float]]
}

extension Scorer {
    public func scores(for queries: [ScoringQuery]) -> [[Float]] {
        queries.map { scores(forHistory: $0.history, user: $0.user) }
    }
}
