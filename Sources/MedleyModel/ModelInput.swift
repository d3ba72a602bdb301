/// One event of the current session.
public struct SessionEvent: Sendable, Equatable {
    public var item: ItemReference
    public var type: EventType
    /// When it happened (Unix time, milliseconds).
    public var timestampMilliseconds: Int64
    /// How long the user stayed, if known. Format version 1 does not use it.
    public var dwellMilliseconds: Int64?
    /// The client's weight for this event, used instead of the model's weight for its type.
    public var weight: Float?

    public init(item: ItemReference, type: EventType, timestampMilliseconds: Int64, dwellMilliseconds: Int64? = nil,
                weight: Float? = nil) {
        self.item = item
        self.type = type
        self.timestampMilliseconds = timestampMilliseconds
        self.dwellMilliseconds = dwellMilliseconds
        self.weight = weight
    }
}

/// What the model is asked about: who (if known), what they are doing now, and when.
public struct ModelInput: Sendable, Equatable {
    /// The user, or nil for an anonymous session.
    public var userID: String?
    /// The current session's events, in any order (they are ordered by timestamp).
    public var events: [SessionEvent]
    /// The user's earlier items (before the current session), oldest first. For a user the
    /// model has not learned a vector for, their mean embedding stands in for the user vector;
    /// a session attention with `attention_input` = `history` reads the newest of them before
    /// the session's; sequential rules anchored at the user's newest item start from the
    /// newest of them when the session has no known item.
    public var history: [ItemReference]
    /// Context features, `context_dim` long (see ``ContextFeatures``).
    public var context: [Float]
    /// The reference time for recency; the newest event's time when nil.
    public var requestTimeMilliseconds: Int64?
    /// Items that must not be recommended (besides the session's own, see ``RecommendationOptions``).
    public var excluded: [ItemReference]

    public init(userID: String? = nil, events: [SessionEvent] = [], history: [ItemReference] = [],
                context: [Float], requestTimeMilliseconds: Int64? = nil, excluded: [ItemReference] = []) {
        self.userID = userID
        self.events = events
        self.history = history
        self.context = context
        self.requestTimeMilliseconds = requestTimeMilliseconds
        self.excluded = excluded
    }
}

/// Why an input cannot be encoded.
public enum ModelInputError: Error, Equatable, CustomStringConvertible {
    case contextDimension(expected: Int, actual: Int)
    case nonFiniteContext(index: Int)

    public var description: String {
        switch self {
        case .contextDimension(let expected, let actual):
            return "context has \(actual) features, the model expects \(expected)"
        case .nonFiniteContext(let index):
            return "context feature \(index) is not finite"
        }
    }
}

/// An input resolved against the model's vocabularies: rows, weights and features, ready for
/// the forward pass. Unknown items and domains are dropped here.
public struct EncodedInput: Sendable, Equatable {
    /// The user's row, or nil for a user the model has not learned.
    public var userRow: Int?
    /// For an unknown user: the rows whose mean embedding is the user vector (empty: zeros).
    public var foldInRows: [Int]
    /// Session items and their normalised weights (type × recency, divided by Σ|w|).
    public var sessionRows: [Int]
    public var sessionWeights: [Float]
    /// The most recent items, newest first, one per slot; nil for an empty slot.
    public var lastItemRows: [Int?]
    /// The session attention's input: the newest known items of the session (or of the history
    /// then the session), at most its sequence length, oldest first (empty without the encoder).
    public var sequenceRows: [Int]
    public var context: [Float]
    /// Rows never to recommend.
    public var excludedRows: Set<Int>
    /// Session events dropped because their item or domain is unknown to the model.
    public var ignoredEventCount: Int
    /// The newest known history items (before the session), newest first, at most
    /// ``SequentialRulesTable/maxDepth``, for every user: where sequential rules anchored at the
    /// user's newest items start once the session's known items are used up.
    public var recentHistoryRows: [Int]
    /// The newest known history item.
    public var newestHistoryRow: Int? { recentHistoryRows.first }

    public init(userRow: Int?, foldInRows: [Int], sessionRows: [Int], sessionWeights: [Float],
                lastItemRows: [Int?], context: [Float], excludedRows: Set<Int> = [], ignoredEventCount: Int = 0,
                sequenceRows: [Int] = [], recentHistoryRows: [Int] = []) {
        self.userRow = userRow
        self.foldInRows = foldInRows
        self.sessionRows = sessionRows
        self.sessionWeights = sessionWeights
        self.lastItemRows = lastItemRows
        self.sequenceRows = sequenceRows
        self.context = context
        self.excludedRows = excludedRows
        self.ignoredEventCount = ignoredEventCount
        self.recentHistoryRows = recentHistoryRows
    }
}

/// Turns a ``ModelInput`` into an ``EncodedInput`` for one model (its vocabularies and
/// session-encoder settings). The rules are those of models/README.md, "Input encoding".
public struct InputEncoder: Sendable {
    public let configuration: ModelConfiguration
    public let catalog: ItemCatalog
    public let users: UserVocabulary
    private let domainIndex: [String: Int]

    public init(configuration: ModelConfiguration, catalog: ItemCatalog, users: UserVocabulary) {
        self.configuration = configuration
        self.catalog = catalog
        self.users = users
        self.domainIndex = Dictionary(uniqueKeysWithValues: configuration.domains.enumerated().map { ($1, $0) })
    }

    /// The row of an item, or nil when its domain or id is unknown.
    public func row(of item: ItemReference) -> Int? {
        domainIndex[item.domain].flatMap { catalog.row(domain: $0, id: item.id) }
    }

    /// The session attention's input (models/README.md, "Input encoding", step 7): the newest
    /// n known items of the session, or of the history followed by the session.
    private func sequenceRows(_ input: ModelInput, known: [Int]) -> [Int] {
        guard let shape = configuration.sessionEncoder else { return [] }
        let historyRows = shape.input == .history ? input.history.compactMap { row(of: $0) } : []
        return shape.input.rows(historyRows: historyRows, sessionRows: known, length: shape.length)
    }

    public func encode(_ input: ModelInput, excludeSessionItems: Bool = true) throws(ModelInputError) -> EncodedInput {
        guard input.context.count == configuration.contextDimension else {
            throw .contextDimension(expected: configuration.contextDimension, actual: input.context.count)
        }
        if let bad = input.context.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteContext(index: bad) }

        let userRow = input.userID.flatMap { users.row(of: $0) }
        let foldIn = userRow == nil ? input.history.compactMap { row(of: $0) } : []

        // Stable order by timestamp: equal timestamps keep their order in the request.
        let ordered = input.events.enumerated()
            .sorted { ($0.element.timestampMilliseconds, $0.offset) < ($1.element.timestampMilliseconds, $1.offset) }
            .map(\.element)
        let known = ordered.compactMap { event in row(of: event.item).map { (event, $0) } }
        let reference = input.requestTimeMilliseconds ?? input.events.map(\.timestampMilliseconds).max() ?? 0
        let halfLife = Double(configuration.recencyHalfLifeSeconds)
        // Weights in double precision, normalised, then rounded once to float.
        let raw = known.map { (event, _) -> Double in
            let age = Double(max(0, reference - event.timestampMilliseconds)) / 1000
            return Double(event.weight ?? configuration.eventWeights[event.type]) * pow(0.5, age / halfLife)
        }
        let norm = raw.reduce(0) { $0 + abs($1) }
        let weights = raw.map { norm > 0 ? Float($0 / norm) : 0 }

        var slots = [Int?](repeating: nil, count: configuration.lastItemSlots)
        for (slot, pair) in known.reversed().prefix(configuration.lastItemSlots).enumerated() {
            slots[slot] = pair.1
        }
        var excluded = Set(input.excluded.compactMap { row(of: $0) })
        if excludeSessionItems { excluded.formUnion(known.map(\.1)) }
        return EncodedInput(userRow: userRow, foldInRows: foldIn, sessionRows: known.map(\.1), sessionWeights: weights,
                            lastItemRows: slots, context: input.context, excludedRows: excluded,
                            ignoredEventCount: input.events.count - known.count,
                            sequenceRows: sequenceRows(input, known: known.map(\.1)),
                            recentHistoryRows: Array(input.history.reversed().lazy.compactMap { row(of: $0) }
                                .prefix(SequentialRulesTable.maxDepth)))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
