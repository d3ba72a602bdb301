import MedleyEventConversion
import MedleyModel
import MedleyProtocol

/// How a user's past events become a model input: the rules the trainer built its examples
/// with, so that a model is evaluated (and served) on inputs like those it learned from.
public struct SessionRules: Sendable, Equatable {
    /// A gap longer than this (between two events, or between the last event and the request)
    /// ends the session. Default 30 minutes.
    public var sessionGapMilliseconds: Int64
    /// The most recent events of the session kept. Default 50.
    public var maxSessionLength: Int
    /// The most recent items before the session kept as history, whose mean embedding stands in
    /// for a user the model has no vector for, and which a session attention reading the
    /// user's history reads before the session. Default 200 (as the service's session store keeps).
    public var maxHistoryItems: Int

    public init(sessionGapMilliseconds: Int64 = 30 * 60 * 1000, maxSessionLength: Int = 50, maxHistoryItems: Int = 200) {
        self.sessionGapMilliseconds = sessionGapMilliseconds
        self.maxSessionLength = maxSessionLength
        self.maxHistoryItems = maxHistoryItems
    }

    /// The rules of a training configuration.
    public init(configuration: TrainingConfiguration) {
        self.init(sessionGapMilliseconds: configuration.sessionGapMilliseconds,
                  maxSessionLength: configuration.maxSessionLength)
    }
}

/// Every item's score from each head for one input.
public struct ItemScores: Sendable, Equatable {
    /// Per domain, the domain list's scores of its block of rows (the domain head's, with the
    /// session head's share mixed in, ``DomainListBlend``): `domains[k][j]` is row
    /// `catalog.domainRanges[k].lowerBound + j`.
    public var domains: [[Float]]
    /// The session head's scores of every row of the item table, blended.
    public var session: [Float]
    /// The next-domain classifier's probabilities.
    public var nextDomainProbabilities: [Float]
}

extension MultitaskModel {
    /// The input for a recommendation made for `userID` at `requestTimeMilliseconds` (nil: the
    /// newest event's time) after `history`, the user's earlier events in time order.
    ///
    /// As in training: events of unknown domains or unspecified type are left out; the session
    /// is the run of newest events with no gap longer than the session gap between them, nor
    /// between the newest and the request, nor a change of the client's session id, capped at
    /// the newest `maxSessionLength`; the history is the newest `maxHistoryItems` events before
    /// the session (as the service keeps them); the context features describe the request time.
    public func input(
        forUser userID: String?, history: [Medley_V1_SessionEvent], requestTimeMilliseconds: Int64? = nil,
        rules: SessionRules = SessionRules()
    ) -> ModelInput {
        let domains = Set(configuration.domains)
        let usable = history.filter { !$0.itemID.isEmpty && domains.contains($0.domain) && EventType($0.type) != nil }
        let requestTime = requestTimeMilliseconds ?? usable.last?.timestampMs ?? 0
        var sessionStart = usable.count
        if let last = usable.last, requestTime - last.timestampMs <= rules.sessionGapMilliseconds {
            sessionStart = usable.count - 1
            while sessionStart > 0 {
                let previous = usable[sessionStart - 1], current = usable[sessionStart]
                if current.timestampMs - previous.timestampMs > rules.sessionGapMilliseconds
                    || previous.hasSessionID != current.hasSessionID
                    || (current.hasSessionID && previous.sessionID != current.sessionID) { break }
                sessionStart -= 1
            }
        }
        sessionStart = max(sessionStart, usable.count - rules.maxSessionLength)
        let events = usable[sessionStart...].compactMap(SessionEvent.init)
        // As the service's session store keeps it: the items before the session, oldest first.
        let historyItems = usable[..<sessionStart].suffix(rules.maxHistoryItems).map { ItemReference(domain: $0.domain, id: $0.itemID) }
        return ModelInput(
            userID: userID, events: events, history: historyItems,
            context: ExampleBuilder.context(timestampMilliseconds: requestTime, dimension: configuration.contextDimension),
            requestTimeMilliseconds: requestTime)
    }

    /// Every item's score from every head, for a batch of inputs: one matrix product per head
    /// (OpenBLAS through ``ScoringKernels``).
    public func itemScores(_ inputs: [EncodedInput]) -> [ItemScores] {
        let d = configuration.embeddingDimension
        let passes = inputs.map(forward)
        let embeddings = parameters[ParameterLayout.itemEmbedding].scalars
        let bias = parameters[ParameterLayout.itemBias].scalars
        func scores(_ query: (Network.ForwardPass) -> [Float], rows: Range<Int>) -> [[Float]] {
            let n = passes.count, m = rows.count
            var out = [Float](repeating: 0, count: n * m)
            let queries = passes.flatMap(query)
            if n > 0 && m > 0 {
                queries.withUnsafeBufferPointer { q in
                    embeddings.withUnsafeBufferPointer { e in
                        out.withUnsafeMutableBufferPointer { o in
                            ScoringKernels.scores(
                                backend: scorer.backend, queries: q, queryCount: n,
                                items: UnsafeBufferPointer(rebasing: e[(rows.lowerBound * d)..<(rows.upperBound * d)]),
                                itemCount: m, dimension: d, into: o)
                        }
                    }
                }
            }
            return (0..<n).map { i in (0..<m).map { j in out[i * m + j] + bias[rows.lowerBound + j] } }
        }
        let blend = domainListBlend
        let perDomain = catalog.domainRanges.indices.map { k in
            scores({ blend.queries(domain: $0.domainQuery(k), session: $0.sessionQuery, count: 1, dimension: d) },
                   rows: catalog.domainRanges[k])
        }
        let session = scores({ $0.sessionQuery }, rows: 0..<catalog.count)
        return passes.indices.map { i in
            var sessionScores = session[i]
            var domainScores = perDomain.map { $0[i] }
            if let rules = contents.sequentialRules {
                let additions = rules.additions(for: inputs[i])
                rules.blend(&sessionScores, additions: additions)
                for (k, rows) in catalog.domainRanges.enumerated() {
                    blend.blend(&domainScores[k], rows: rows, additions: additions)
                }
            }
            return ItemScores(domains: domainScores, session: sessionScores,
                              nextDomainProbabilities: passes[i].nextDomainProbabilities)
        }
    }
}
