import MedleyTraining
/// The interactions a scorer may learn from: a prefix of each user's sequence, with the
/// catalogue it is scored over.
public struct TrainingSequences: Sendable {
    /// The number of items in the catalogue.
    public let itemCount: Int
    /// The domain index of each item.
    public let itemDomain: [Int]
    /// The item indices of each domain.
    public let domainRanges: [Range<Int>]
    /// Domain names.
    public let domains: [String]
    /// Each user's training items, chronologically (empty for a user with none).
    public let sequences: [[Int]]
    /// The time of each training item, in milliseconds since the Unix epoch.
    public let timestamps: [[Int64]]

    /// The first `trainingLength[u]` interactions of each user of `dataset`.
    public init(dataset: SequenceDataset, trainingLength: [Int]) {
        precondition(trainingLength.count == dataset.userCount, "one training length per user")
        self.itemCount = dataset.itemCount
        self.itemDomain = dataset.itemDomain
        self.domainRanges = dataset.domainRanges
        self.domains = dataset.domains
        self.sequences = zip(dataset.sequences, trainingLength).map { Array($0.prefix($1)) }
        self.timestamps = zip(dataset.timestamps, trainingLength).map { Array($0.prefix($1)) }
    }

    /// The number of training interactions.
    public var interactionCount: Int { sequences.reduce(0) { $0 + $1.count } }

    /// The training sequences as sessions: each user's sequence cut at gaps longer than
    /// `gapMilliseconds`, or whole when it is nil. Empty sequences give no session.
    public func sessions(gapMilliseconds: Int64?) -> [TrainingSession] {
        var sessions: [TrainingSession] = []
        for (items, times) in zip(sequences, timestamps) where !items.isEmpty {
            let ranges = gapMilliseconds.map { Sessionizer.cut(timestamps: times, gap: $0) } ?? [0..<items.count]
            for range in ranges {
                sessions.append(TrainingSession(items: Array(items[range]), lastTimestamp: times[range.upperBound - 1]))
            }
        }
        return sessions
    }
}

/// One session of training data, for session-based baselines.
public struct TrainingSession: Sendable, Equatable {
    /// The items, chronologically.
    public var items: [Int]
    /// When its last interaction happened (milliseconds), the session's recency.
    public var lastTimestamp: Int64

    public init(items: [Int], lastTimestamp: Int64) {
        self.items = items
        self.lastTimestamp = lastTimestamp
    }
}
