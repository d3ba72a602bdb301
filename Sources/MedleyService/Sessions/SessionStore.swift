import MedleyEventConversion
import MedleyModel
import MedleyProtocol

/// The sessions one worker holds, bounded in count and expired by idle time.
///
/// A store belongs to one worker thread: user affinity sends every event and request of a
/// user to the same worker, so no lock guards a session.
public final class SessionStore {
    public let configuration: SessionConfiguration
    private var recency = RecencyList()
    /// Keyed by the id's bytes: ids are opaque, never Unicode-normalised.
    private var sessions: [OpaqueID: Slot] = [:]

    private struct Slot {
        var session: UserSession
        var node: Int
        /// The service's clock (not the client's) when the user was last active, for expiry.
        var touchedAtMs: Int64

        /// Whether the session already holds the record of log sequence `sequence` (0: not logged).
        func holds(sequence: UInt64) -> Bool { sequence > 0 && sequence <= session.lastSequence }

        /// Counts activity at `nowMs`, first adding `event` when given; returns the recency node.
        /// Mutating, so that the store calls it in place: reading a slot out of the dictionary
        /// copies it, retaining every buffer of its session (a profile's largest retain).
        mutating func touch(nowMs: Int64, adding event: SessionEvent? = nil, sequence: UInt64 = 0, clientSessionID: String? = nil,
                            configuration: SessionConfiguration) -> Int {
            if let event { session.append(event, sequence: sequence, clientSessionID: clientSessionID, configuration: configuration) }
            touchedAtMs = nowMs
            return node
        }

        /// ``holds(sequence:)`` then ``touch(nowMs:adding:sequence:clientSessionID:configuration:)``
        /// in one in-place access: a held record only counts as activity; an event of a type the
        /// model does not know changes nothing (nil).
        mutating func apply(_ logged: LoggedEvent, nowMs: Int64, configuration: SessionConfiguration) -> Int? {
            if holds(sequence: logged.sequence) { return touch(nowMs: nowMs, configuration: configuration) }
            guard let event = logged.event else { return nil }
            return touch(nowMs: nowMs, adding: event, sequence: logged.sequence, clientSessionID: logged.sessionID,
                         configuration: configuration)
        }
    }

    public init(configuration: SessionConfiguration = SessionConfiguration()) {
        self.configuration = configuration
    }

    /// Users held.
    public var count: Int { sessions.count }

    /// Users dropped to keep within `maxUsers` since the store was made.
    public private(set) var evictedCount = 0
    /// Users dropped for idleness since the store was made.
    public private(set) var expiredCount = 0

    /// The session of a user, if held.
    public func session(for userID: String) -> UserSession? {
        sessions[OpaqueID(userID)]?.session
    }

    /// Adds a logged event to its user's session. `nowMs` is the service's clock. A record
    /// the session already holds (the broker replays a worker's own users after others
    /// left it) is not added again, but counts as activity, so that a replay in log order
    /// leaves the newest users in the store. An event of a type the model does not know
    /// (logged by a newer service) is left out, as the trainer leaves it out.
    public func apply(_ record: Medley_V1_EventLogRecord, nowMs: Int64) {
        apply(LoggedEvent(record), nowMs: nowMs)
    }

    /// ``apply(_:nowMs:)`` for a record read by ``LoggedEvent/init(canonical:)``.
    public func apply(_ logged: LoggedEvent, nowMs: Int64) {
        let key = OpaqueID(logged.userID)
        if let held = sessions.index(forKey: key) {
            if let node = sessions.values[held].apply(logged, nowMs: nowMs, configuration: configuration) {
                recency.moveToFront(node)
            }
            return
        }
        guard let modelEvent = logged.event else { return }
        append(modelEvent, sequence: logged.sequence, userID: logged.userID, key: key, held: nil,
               clientSessionID: logged.sessionID, nowMs: nowMs)
    }

    /// Adds an event (`sequence`: its log sequence number, 0 if not logged) to a user's
    /// session, making the session if needed.
    public func append(_ event: SessionEvent, sequence: UInt64 = 0, userID: String, clientSessionID: String? = nil, nowMs: Int64) {
        let key = OpaqueID(userID)
        append(event, sequence: sequence, userID: userID, key: key, held: sessions.index(forKey: key),
               clientSessionID: clientSessionID, nowMs: nowMs)
    }

    /// `held`: where the user's slot is in `sessions`, looked up once by the caller.
    private func append(_ event: SessionEvent, sequence: UInt64, userID: String, key: OpaqueID,
                        held: Dictionary<OpaqueID, Slot>.Index?, clientSessionID: String?, nowMs: Int64) {
        if let held {
            // Mutated in place through the dictionary: a copy taken out would share the
            // session's storage with the dictionary, and every append would copy it whole
            // (the bound on ingest throughput in a profile, BENCHMARKS.md).
            recency.moveToFront(sessions.values[held].touch(nowMs: nowMs, adding: event, sequence: sequence,
                                                            clientSessionID: clientSessionID, configuration: configuration))
            return
        }
        var session = UserSession(userID: userID, first: event, clientSessionID: clientSessionID, configuration: configuration)
        session.append(event, sequence: sequence, clientSessionID: clientSessionID, configuration: configuration)
        let node = recency.pushFront(userID)
        sessions[key] = Slot(session: session, node: node, touchedAtMs: nowMs)
        while sessions.count > configuration.maxUsers, let oldest = recency.back {
            remove(recency.key(at: oldest))
            evictedCount += 1
        }
    }

    /// Drops users idle longer than the configured expiry; returns how many.
    @discardableResult
    public func expireIdle(nowMs: Int64) -> Int {
        var expired = 0
        // The recency list is ordered by last activity, so idle users are all at the back.
        while let oldest = recency.back {
            let userID = recency.key(at: oldest)
            guard let slot = sessions[OpaqueID(userID)], nowMs - slot.touchedAtMs > configuration.idleExpiryMilliseconds else { break }
            remove(userID)
            expired += 1
        }
        expiredCount += expired
        return expired
    }

    /// Drops one user's session (when the user moves to another worker).
    public func remove(_ userID: String) {
        guard let slot = sessions.removeValue(forKey: OpaqueID(userID)) else { return }
        recency.remove(slot.node)
    }

    /// Drops every session.
    public func removeAll() {
        sessions.removeAll()
        recency = RecencyList()
    }
}

@available(*, unavailable)
extension SessionStore: Sendable {}

/// A doubly linked list of keys in array slots, most recent at the front: O(1) touch,
/// insert, remove and oldest, with no per-node allocation.
struct RecencyList {
    private struct Node {
        var key: String
        var previous: Int
        var next: Int
    }

    private static let none = -1
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var head = RecencyList.none
    private var tail = RecencyList.none

    /// The least recently used node.
    var back: Int? { tail == Self.none ? nil : tail }

    func key(at node: Int) -> String { nodes[node].key }

    mutating func pushFront(_ key: String) -> Int {
        let node: Int
        let fresh = Node(key: key, previous: Self.none, next: head)
        if let reused = free.popLast() {
            nodes[reused] = fresh
            node = reused
        } else {
            nodes.append(fresh)
            node = nodes.count - 1
        }
        if head != Self.none { nodes[head].previous = node }
        head = node
        if tail == Self.none { tail = node }
        return node
    }

    mutating func remove(_ node: Int) {
        let previous = nodes[node].previous
        let next = nodes[node].next
        if previous != Self.none { nodes[previous].next = next } else { head = next }
        if next != Self.none { nodes[next].previous = previous } else { tail = previous }
        nodes[node].key = ""
        free.append(node)
    }

    mutating func moveToFront(_ node: Int) {
        guard node != head else { return }
        let key = nodes[node].key
        remove(node)
        let moved = pushFront(key)
        assert(moved == node, "a removed node is reused first")
    }
}
