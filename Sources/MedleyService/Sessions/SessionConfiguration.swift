/// Limits of one worker's session store.
///
/// Memory per user is bounded by `maxSessionEvents` and `maxHistoryItems`: with item ids of
/// about 16 bytes, a user with a full session and history holds roughly
/// `maxSessionEvents × 96 + maxHistoryItems × 48` bytes plus about 200 bytes of bookkeeping,
/// about 25 KiB at the defaults, so the default cap of 100,000 users per worker bounds a
/// worker's sessions near 2.5 GiB in the worst case and far less in practice (most
/// sessions are short).
public struct SessionConfiguration: Sendable, Equatable {
    /// A gap between two events of a user longer than this starts a new session.
    public var sessionGapMilliseconds: Int64 = 30 * 60 * 1000
    /// A user with no event for this long (by the service's clock) is dropped from memory;
    /// their events stay in the log.
    public var idleExpiryMilliseconds: Int64 = 6 * 60 * 60 * 1000
    /// The most users held; the least recently active is dropped first.
    public var maxUsers: Int = 100_000
    /// The most events kept of the current session (the oldest go first).
    public var maxSessionEvents: Int = 200
    /// The most recent items remembered across sessions, for "already seen" and for
    /// folding in a vector for a user the model does not know.
    public var maxHistoryItems: Int = 200

    public init() {}

    public init(
        sessionGapMilliseconds: Int64 = 30 * 60 * 1000,
        idleExpiryMilliseconds: Int64 = 6 * 60 * 60 * 1000,
        maxUsers: Int = 100_000,
        maxSessionEvents: Int = 200,
        maxHistoryItems: Int = 200
    ) {
        precondition(sessionGapMilliseconds > 0 && idleExpiryMilliseconds > 0)
        precondition(maxUsers > 0 && maxSessionEvents > 0 && maxHistoryItems > 0)
        self.sessionGapMilliseconds = sessionGapMilliseconds
        self.idleExpiryMilliseconds = idleExpiryMilliseconds
        self.maxUsers = maxUsers
        self.maxSessionEvents = maxSessionEvents
        self.maxHistoryItems = maxHistoryItems
    }
}
