/// The kinds of session event, as stored in model files (`event_weights` metadata).
public enum EventType: String, Sendable, CaseIterable, Codable {
    case view, click, play, complete, like, share, skip, dislike

    /// The type's position in `allCases`, for tables indexed by type.
    var position: Int {
        switch self {
        case .view: 0
        case .click: 1
        case .play: 2
        case .complete: 3
        case .like: 4
        case .share: 5
        case .skip: 6
        case .dislike: 7
        }
    }
}

/// How much each event type counts in the session vector. Negative weights (skip, dislike)
/// push the session away from an item.
public struct EventWeights: Sendable, Equatable {
    /// The weight per event type; every type has one.
    public private(set) var weights: [EventType: Float]
    /// The same weights by the type's position: read for every event a session holds, where
    /// hashing the type would cost more than the arithmetic.
    private let weightsByPosition: [Float]

    /// The defaults written into new model files (documented in models/README.md).
    public static let defaults = EventWeights(uncheckedWeights: [
        .view: 1.0, .click: 1.5, .play: 1.5, .complete: 2.0,
        .like: 3.0, .share: 3.0, .skip: -0.5, .dislike: -1.5,
    ])

    /// Creates weights; every event type must have a finite weight.
    public init(_ weights: [EventType: Float]) throws(ModelFileError) {
        for type in EventType.allCases {
            guard let w = weights[type] else {
                throw .invalidMetadata(key: "event_weights", reason: "no weight for event type \"\(type.rawValue)\"")
            }
            guard w.isFinite else {
                throw .invalidMetadata(key: "event_weights", reason: "weight for \"\(type.rawValue)\" is not finite")
            }
        }
        self.init(uncheckedWeights: weights)
    }

    private init(uncheckedWeights: [EventType: Float]) {
        self.weights = uncheckedWeights
        self.weightsByPosition = EventType.allCases.map { uncheckedWeights[$0] ?? 0 }
    }

    public subscript(type: EventType) -> Float {
        weightsByPosition[type.position]
    }
}
