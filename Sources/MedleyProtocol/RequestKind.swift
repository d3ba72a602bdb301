/// The bodies of `Request.body` this service knows. The raw values are the names metrics and
/// logs give them.
public enum RequestKind: String, Sendable, CaseIterable {
    case ingest, recommend, stats, health, control
}

extension Medley_V1_Request.OneOf_Body {
    /// Which body this is.
    public var kind: RequestKind {
        switch self {
        case .ingest: .ingest
        case .recommend: .recommend
        case .stats: .stats
        case .health: .health
        case .control: .control
        }
    }
}
