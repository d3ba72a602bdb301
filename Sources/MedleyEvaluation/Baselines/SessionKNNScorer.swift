/// Vector-multiplication session kNN (V-SKNN; Ludewig and Jannach, "Evaluation of
/// session-based recommendation algorithms", 2018).
///
/// The current session is a vector over items weighted by position: the item at 1-based
/// position p of n gets p / n (the newest 1; SR's and V-SKNN's "div" decay), a repeated item
/// its latest position. A past session's similarity is the dot product of that vector with
/// the past session's binary item vector. Only past sessions sharing an item with the
/// current one are considered, and of those only the `sampleSize` most recent; the `k` most
/// similar are the neighbours, and an item scores the sum of the similarities of the
/// neighbours that contain it.
///
/// Candidate sessions are found through an inverted index item → sessions, so a query costs
/// the length of its items' posting lists, never a pass over all sessions.
public struct SessionKNNScorer: Scorer {
    /// The neighbourhood's parameters.
    public struct Configuration: Sendable, Equatable {
        /// The number of neighbours.
        public var neighbours: Int
        /// The number of most recent candidate sessions compared with the current one.
        public var sampleSize: Int
        /// When set, only the last this many items of the history form the current session
        /// (a leave-one-out history is not a session; its recent end stands in for one).
        public var currentSessionLength: Int?

        public init(neighbours: Int = 100, sampleSize: Int = 1000, currentSessionLength: Int? = nil) {
            precondition(neighbours >= 1 && sampleSize >= 1, "neighbours and sampleSize must be at least 1")
            precondition((currentSessionLength ?? 1) >= 1, "currentSessionLength must be at least 1")
            self.neighbours = neighbours
            self.sampleSize = sampleSize
            self.currentSessionLength = currentSessionLength
        }
    }

    public let name = "V-SKNN"
    private let configuration: Configuration
    private let itemCount: Int
    // Sessions are numbered from the most recent, so "most recent" is "smallest number".
    private let sessionStart: [Int]
    private let sessionItems: [Int32]
    // Posting lists: the sessions containing item i are postings[postingStart[i]..<postingStart[i+1]].
    private let postingStart: [Int]
    private let postings: [Int32]

    /// Indexes training sessions.
    public init(sessions: [TrainingSession], itemCount: Int, configuration: Configuration = Configuration()) {
        // Most recent first; equal times keep input order, so numbering is reproducible.
        let order = sessions.indices.sorted {
            sessions[$0].lastTimestamp != sessions[$1].lastTimestamp
                ? sessions[$0].lastTimestamp > sessions[$1].lastTimestamp : $0 < $1
        }
        var sessionStart = [0]
        var sessionItems: [Int32] = []
        var postingCounts = [Int](repeating: 0, count: itemCount + 1)
        for index in order {
            var seen = Set<Int>()
            for item in sessions[index].items where seen.insert(item).inserted {
                sessionItems.append(Int32(item))
                postingCounts[item + 1] += 1
            }
            sessionStart.append(sessionItems.count)
        }
        var postingStart = postingCounts
        for i in 1..<postingStart.count { postingStart[i] += postingStart[i - 1] }
        var next = Array(postingStart.dropLast())
        var postings = [Int32](repeating: 0, count: sessionItems.count)
        for s in 0..<(sessionStart.count - 1) {
            for r in sessionStart[s]..<sessionStart[s + 1] {
                let item = Int(sessionItems[r])
                postings[next[item]] = Int32(s)
                next[item] += 1
            }
        }
        self.configuration = configuration
        self.itemCount = itemCount
        self.sessionStart = sessionStart
        self.sessionItems = sessionItems
        self.postingStart = postingStart
        self.postings = postings
    }

    /// The number of indexed sessions.
    public var sessionCount: Int { sessionStart.count - 1 }

    public func scores(forHistory fullHistory: [Int], user: Int) -> [Float] {
        var scores = [Float](repeating: 0, count: itemCount)
        let history = fullHistory.suffix(configuration.currentSessionLength ?? fullHistory.count)
        guard !history.isEmpty else { return scores }

        var weight: [Int: Float] = [:]
        let n = Float(history.count)
        for (p, item) in history.enumerated() { weight[item] = Float(p + 1) / n }

        // Similarity of every session that shares an item, accumulated over the posting lists.
        var similarity = [Float](repeating: 0, count: sessionCount)
        var touched: [Int32] = []
        for (item, w) in weight {
            for r in postingStart[item]..<postingStart[item + 1] {
                let s = Int(postings[r])
                if similarity[s] == 0 { touched.append(postings[r]) }
                similarity[s] += w
            }
        }
        // The sample: the most recent candidates (smallest numbers).
        if touched.count > configuration.sampleSize {
            touched.sort()
            touched.removeLast(touched.count - configuration.sampleSize)
        }
        // The neighbours: the most similar of the sample, ties to the more recent.
        touched.sort { similarity[Int($0)] != similarity[Int($1)] ? similarity[Int($0)] > similarity[Int($1)] : $0 < $1 }
        for s in touched.prefix(configuration.neighbours) {
            let sim = similarity[Int(s)]
            for r in sessionStart[Int(s)]..<sessionStart[Int(s) + 1] {
                scores[Int(sessionItems[r])] += sim
            }
        }
        return scores
    }
}
