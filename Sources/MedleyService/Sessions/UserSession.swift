import MedleyModel
import MedleyProtocol

/// What the service knows of one user's recent activity: the current session (a run of
/// events without a long gap) and the items of recent sessions.
public struct UserSession: Sendable, Equatable {
    public let userID: String
    /// The client's session id, or one the service made: `<user>@<first event ms>`.
    public private(set) var sessionID: String
    /// The current session's events, oldest first, as the model reads them.
    public private(set) var events: [SessionEvent] = []
    /// Items of earlier events, oldest first, without the current session's; bounded.
    public private(set) var history: [ItemReference] = []
    /// Timestamp of the newest event, by the client's clock.
    public private(set) var lastEventMs: Int64
    /// How many sessions this user has started since the store first saw them.
    public private(set) var sessionCount = 1
    /// The log sequence of the newest logged event applied (0: none), so that a replay
    /// of records already held is recognised.
    public private(set) var lastSequence: UInt64 = 0

    init(userID: String, first: SessionEvent, clientSessionID: String?) {
        self.userID = userID
        self.sessionID = clientSessionID ?? "\(userID)@\(first.timestampMilliseconds)"
        self.lastEventMs = first.timestampMilliseconds
    }

    /// Every item the user touched recently: history and current session.
    public var seenItems: Set<ItemReference> {
        Set(history).union(events.lazy.map(\.item))
    }

    /// Adds an event (`sequence`: its log sequence number, 0 if not logged), starting a new
    /// session on a long gap or a new client session id.
    mutating func append(_ event: SessionEvent, sequence: UInt64, clientSessionID: String?, configuration: SessionConfiguration) {
        // A clock that runs backwards is not a gap: such an event joins the current session.
        let gap = event.timestampMilliseconds - lastEventMs
        let newClientSession = clientSessionID.map { !$0.isSameID(as: sessionID) } ?? false
        if gap > configuration.sessionGapMilliseconds || newClientSession {
            history.append(contentsOf: events.lazy.map(\.item))
            events.removeAll(keepingCapacity: true)
            sessionID = clientSessionID ?? "\(userID)@\(event.timestampMilliseconds)"
            sessionCount += 1
        }
        events.append(event)
        if events.count > configuration.maxSessionEvents {
            let overflow = events.count - configuration.maxSessionEvents
            history.append(contentsOf: events.prefix(overflow).lazy.map(\.item))
            events.removeFirst(overflow)
        }
        if history.count > configuration.maxHistoryItems {
            history.removeFirst(history.count - configuration.maxHistoryItems)
        }
        lastEventMs = max(lastEventMs, event.timestampMilliseconds)
        lastSequence = max(lastSequence, sequence)
    }
}
