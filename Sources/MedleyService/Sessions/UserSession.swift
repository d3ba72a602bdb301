import MedleyModel
import MedleyProtocol

/// What the service knows of one user's recent activity: the current session (a run of
/// events without a long gap) and the items of recent sessions.
public struct UserSession: Sendable, Equatable {
    public let userID: String
    /// The client's session id, or one the service made: `<user>@<first event ms>`.
    public private(set) var sessionID: String
    /// The current session's events, oldest first, as the model reads them.
    public var events: [SessionEvent] { Array(eventRing) }
    /// Items of earlier events, oldest first, without the current session's; bounded.
    public var history: [ItemReference] { Array(historyRing) }
    /// Both bounded by the store's configuration; a full ring drops its oldest in place.
    private var eventRing: BoundedRing<SessionEvent>
    private var historyRing: BoundedRing<ItemReference>
    /// Timestamp of the newest event, by the client's clock.
    public private(set) var lastEventMs: Int64
    /// How many sessions this user has started since the store first saw them.
    public private(set) var sessionCount = 1
    /// The log sequence of the newest logged event applied (0: none), so that a replay
    /// of records already held is recognised.
    public private(set) var lastSequence: UInt64 = 0

    init(userID: String, first: SessionEvent, clientSessionID: String?, configuration: SessionConfiguration) {
        self.userID = userID
        self.sessionID = clientSessionID ?? "\(userID)@\(first.timestampMilliseconds)"
        self.lastEventMs = first.timestampMilliseconds
        eventRing = BoundedRing(capacity: configuration.maxSessionEvents)
        historyRing = BoundedRing(capacity: configuration.maxHistoryItems)
    }

    /// Every item the user touched recently: history and current session.
    public var seenItems: Set<ItemReference> {
        Set(historyRing).union(eventRing.lazy.map(\.item))
    }

    /// Adds an event (`sequence`: its log sequence number, 0 if not logged), starting a new
    /// session on a long gap or a new client session id. `configuration` is the store's, the
    /// one the session was made with (its bounds are the rings').
    mutating func append(_ event: SessionEvent, sequence: UInt64, clientSessionID: String?, configuration: SessionConfiguration) {
        // A clock that runs backwards is not a gap: such an event joins the current session.
        let gap = event.timestampMilliseconds - lastEventMs
        let newClientSession = clientSessionID.map { !$0.isSameID(as: sessionID) } ?? false
        if gap > configuration.sessionGapMilliseconds || newClientSession {
            for earlier in eventRing { historyRing.append(earlier.item) }
            eventRing.removeAll()
            sessionID = clientSessionID ?? "\(userID)@\(event.timestampMilliseconds)"
            sessionCount += 1
        }
        // The oldest event of a full session leaves it for the history.
        if let dropped = eventRing.append(event) { historyRing.append(dropped.item) }
        lastEventMs = max(lastEventMs, event.timestampMilliseconds)
        lastSequence = max(lastSequence, sequence)
    }
}
