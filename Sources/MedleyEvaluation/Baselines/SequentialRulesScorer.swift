import MedleyModel

/// Sequential rules (SR; Ludewig and Jannach, "Evaluation of session-based recommendation
/// algorithms", 2018): a rule i → j gains 1/d each time j follows i at a distance d of at
/// most `steps` positions within a training session; an item is scored by the weight of the
/// rule from the session's last item to it.
public struct SequentialRulesScorer: Scorer {
    /// The rules' parameters.
    public struct Configuration: Sendable, Equatable {
        /// The largest distance between i and j that makes a rule (SR's default: 10).
        public var steps: Int
        /// When set, only the strongest rules of each item are kept (SR's `pruning`); nil keeps all.
        public var rulesPerItem: Int?

        public init(steps: Int = 10, rulesPerItem: Int? = nil) {
            precondition(steps >= 1, "steps must be at least 1")
            self.steps = steps
            self.rulesPerItem = rulesPerItem
        }
    }

    public let name = "sequential rules"
    private let itemCount: Int
    // The rules as compressed rows: the rules of item i are targets/weights[rowStart[i]..<rowStart[i+1]].
    private let rowStart: [Int]
    private let targets: [Int32]
    private let weights: [Float]

    /// Learns the rules from training sessions (for the published protocol, each user's whole
    /// training sequence is one session, so that transitions across visits count too).
    public init(sessions: [TrainingSession], itemCount: Int, configuration: Configuration = Configuration()) {
        var rowStart = [0]
        var targets: [Int32] = []
        var weights: [Float] = []
        // The same counting as the rules a model blends in (``SequentialRulesTable``), unscaled.
        for row in SequentialRulesTable.count(sessions: sessions.map(\.items), itemCount: itemCount, steps: configuration.steps) {
            let rules = row.prefix(configuration.rulesPerItem ?? row.count)
            targets.append(contentsOf: rules.map(\.target))
            weights.append(contentsOf: rules.map(\.weight))
            rowStart.append(targets.count)
        }
        self.itemCount = itemCount
        self.rowStart = rowStart
        self.targets = targets
        self.weights = weights
    }

    /// The rules from one item, strongest first.
    public func rules(from item: Int) -> [(item: Int, weight: Float)] {
        (rowStart[item]..<rowStart[item + 1]).map { (Int(targets[$0]), weights[$0]) }
    }

    public func scores(forHistory history: [Int], user: Int) -> [Float] {
        var scores = [Float](repeating: 0, count: itemCount)
        guard let last = history.last else { return scores }
        for r in rowStart[last]..<rowStart[last + 1] {
            scores[Int(targets[r])] = weights[r]
        }
        return scores
    }
}
