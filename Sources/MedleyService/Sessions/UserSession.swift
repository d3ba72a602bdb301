import MedleyModel
import MedleyProtocol

/// One event as a session keeps it.
public struct SessionEntry: Sendable, Equatable {
    public var itemID: String
    public var domain: String
    public var type: Medley_V1_EventType
    public var timestampMs: Int64
    public var dwellMs: UInt32
    /// The client's weight for the event, overriding the event type's.
    public var weight: Float?
    /// The event's log sequence number.
    public var sequence: UInt64

    public init(
        itemID: String, domain: String, type: Medley_V1_EventType, timestampMs: Int64,
        dwellMs: UInt32 = 0, weight: Float? = nil, sequence: UInt64 = 0
    ) {
        self.itemID = itemID
        self.domain = domain
        self.type = type
        self.timestampMs = timestampMs
        self.dwellMs = dwellMs
        self.weight = weight
        self.sequence = sequence
    }

    /// The item, as the model identifies it.
    public var item: ItemReference { ItemReference(domain: domain, id: itemID) }

    /// The entry for a logged event.
    public init(_ record: Medley_V1_EventLogRecord) {
        self.init(record.event, sequence: record.sequence)
    }

    /// The entry for a wire event: the one conversion, so that no field is lost on the way.
    public init(_ event: Medley_V1_SessionEvent, sequence: UInt64 = 0) {
        self.init(
            itemID: event.itemID, domain: event.domain, type: event.type,
            timestampMs: event.timestampMs, dwellMs: event.dwellMs,
            weight: event.hasWeight ? event.weight : nil, sequence: sequence
        )
    }
}

/// What the service knows of one user's recent activity: the current session (a run of
/// events without a long gap) and the items of recent sessions.
public struct UserSession: Sendable, Equatable {
    public let userID: String
    /// The client's session id, or one the service made: `<user>@<first event ms>`.
    public private(set) var sessionID: String
    /// The current session's events, oldest first.
    public private(set) var events: [SessionEntry] = []
    /// Items of earlier events, oldest first, without the current session's; bounded.
    public private(set) var history: [ItemReference] = []
    /// Timestamp of the newest event, by the client's clock.
    public private(set) var lastEventMs: Int64
    /// How many sessions this user has started since the store first saw them.
    public private(set) var sessionCount = 1
    /// The log sequence of the newest logged event applied (0: none), so that a replay
    /// of records already held is recognised.
    public private(set) var lastSequence: UInt64 = 0

    init(userID: String, first: SessionEntry, clientSessionID: String?) {
        self.userID = userID
        self.sessionID = clientSessionID ?? "\(userID)@\(first.timestampMs)"
        self.lastEventMs = first.timestampMs
    }

    /// Every item the user touched recently: history and current session.
    public var seenItems: Set<ItemReference> {
        Set(history).union(events.lazy.map(\.item))
    }

    /// Adds an event, starting a new session on a long gap or a new client session id.
    mutating func append(_ entry: SessionEntry, clientSessionID: String?, configuration: SessionConfiguration) {
        // A clock that runs backwards is not a gap: such an event joins the current session.
        let gap = entry.timestampMs - lastEventMs
        let newClientSession = clientSessionID.map { !$0.isSameID(as: sessionID) } ?? false
        if gap > configuration.sessionGapMilliseconds || newClientSession {
            history.append(contentsOf: events.lazy.map(\.item))
            events.removeAll(keepingCapacity: true)
            sessionID = clientSessionID ?? "\(userID)@\(entry.timestampMs)"
            sessionCount += 1
        }
        events.append(entry)
        if events.count > configuration.maxSessionEvents {
            let overflow = events.count - configuration.maxSessionEvents
            history.append(contentsOf: events.prefix(overflow).lazy.map(\.item))
            events.removeFirst(overflow)
        }
        if history.count > configuration.maxHistoryItems {
            history.removeFirst(history.count - configuration.maxHistoryItems)
        }
        lastEventMs = max(lastEventMs, entry.timestampMs)
        lastSequence = max(lastSequence, entry.sequence)
    }
}
