import MedleySystem
import MedleyTraining
/// Where a chronological split puts the boundary between training and test.
public enum ChronologicalCut: Sendable, Equatable {
    /// Each user's own last `testFraction` of interactions are test (rounded, at least one
    /// for a user with two or more, none for a user with one). Every user is warm: this
    /// measures next-event prediction for known users.
    case perUser(testFraction: Double)
    /// One time T for everyone: interactions at or after T are test, where T is the time of
    /// the first interaction of the last `testFraction` of all interactions in time order.
    /// Nothing after T is trained on, as when a model trained up to today serves tomorrow;
    /// users who arrive after T are cold.
    case global(testFraction: Double)
    /// One given time T for everyone (milliseconds since the Unix epoch): interactions at or
    /// after T are test, as with `global`.
    case at(timestampMilliseconds: Int64)

    var description: String {
        switch self {
        case .perUser(let f): "per user: each user's last \(Int((f * 100).rounded()))% of interactions are test"
        case .global(let f): "global time cut: the last \(Int((f * 100).rounded()))% of interactions in time are test"
        case .at(let t): "global time cut: interactions at or after \(t) ms are test"
        }
    }
}

/// A chronological split of a data set for the service-style evaluation: a training prefix
/// of each user's sequence and, after it, test targets, each predicted from everything the
/// user did before it (training and earlier test interactions alike, as the service sees
/// them), with the model fitted on training only.
public struct ChronologicalSplit: Sendable {
    /// The indexed data.
    public let dataset: SequenceDataset
    /// The cut.
    public let cut: ChronologicalCut
    /// The number of training interactions of each user (a prefix of their sequence).
    public let trainingLength: [Int]
    /// The training part.
    public let training: TrainingSequences
    /// The test targets as (user, position in the user's sequence), users in order, each
    /// user's chronologically. Targets whose item never occurs in training are left out: no
    /// model trained on that data can know them.
    public let targets: [(user: Int, position: Int)]
    /// The test interactions left out because their item is not in the training data.
    public let unknownItemTargets: Int
    /// The cold-in-domain protocol's probe users (index → the domain they are cold in), and
    /// its settings, when it was applied (``ColdDomainProtocol``).
    public internal(set) var coldProbes: [Int: Int] = [:]
    public internal(set) var coldProtocol: ColdDomainProtocol.Configuration?

    public init(dataset: SequenceDataset, cut: ChronologicalCut) {
        let lengths: [Int]
        switch cut {
        case .perUser(let fraction):
            precondition(fraction > 0 && fraction < 1, "testFraction must be in (0, 1)")
            lengths = dataset.sequences.map { sequence in
                guard sequence.count >= 2 else { return sequence.count }
                let test = min(sequence.count - 1, max(1, Int((Double(sequence.count) * fraction).rounded())))
                return sequence.count - test
            }
        case .global(let fraction):
            precondition(fraction > 0 && fraction < 1, "testFraction must be in (0, 1)")
            let times = dataset.timestamps.flatMap { $0 }.sorted()
            let boundary = times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * (1 - fraction)))]
            lengths = dataset.timestamps.map { userTimes in userTimes.partitioningIndex { $0 >= boundary } }
        case .at(let boundary):
            lengths = dataset.timestamps.map { userTimes in userTimes.partitioningIndex { $0 >= boundary } }
        }
        self.init(dataset: dataset, cut: cut, trainingLength: lengths)
    }

    /// The split whose training part is the first `lengths[u]` interactions of each user; its
    /// targets start at `firstTargets[u]` (default: right after the training part).
    init(dataset: SequenceDataset, cut: ChronologicalCut, trainingLength lengths: [Int], firstTargets: [Int]? = nil) {
        let training = TrainingSequences(dataset: dataset, trainingLength: lengths)
        var known = [Bool](repeating: false, count: dataset.itemCount)
        for sequence in training.sequences { for item in sequence { known[item] = true } }
        var targets: [(user: Int, position: Int)] = []
        var unknown = 0
        for (user, sequence) in dataset.sequences.enumerated() {
            for position in max(lengths[user], firstTargets?[user] ?? 0)..<sequence.count {
                if known[sequence[position]] { targets.append((user, position)) } else { unknown += 1 }
            }
        }
        self.dataset = dataset
        self.cut = cut
        self.trainingLength = lengths
        self.training = training
        self.targets = targets
        self.unknownItemTargets = unknown
    }
}
