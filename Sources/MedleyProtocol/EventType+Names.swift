extension Medley_V1_EventType {
    /// Every event type a client may send, by the name people, JSON-lines files and model
    /// files use for it (model files weight event types by these names).
    public static let byName: [String: Medley_V1_EventType] = [
        "view": .view, "click": .click, "play": .play, "complete": .complete,
        "like": .like, "share": .share, "skip": .skip, "dislike": .dislike,
    ]

    /// The event type's name ("view", "click", …); nil for unspecified or unknown values.
    public var name: String? {
        switch self {
        case .view: "view"
        case .click: "click"
        case .play: "play"
        case .complete: "complete"
        case .like: "like"
        case .share: "share"
        case .skip: "skip"
        case .dislike: "dislike"
        case .unspecified, .UNRECOGNIZED: nil
        }
    }

    /// The event type of a name, in any letter case; nil if there is none.
    public init?(name: String) {
        guard let type = Self.byName[name.lowercased()] else { return nil }
        self = type
    }
}
