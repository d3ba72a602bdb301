import MedleyModel

/// Keeps each user's requests in arrival order across the asynchronous event log.
///
/// An ingest waits for its fsync before its events reach the user's worker; a recommend
/// request that arrives meanwhile must not overtake those events, so it is held until every
/// ingest before it that touches the same user is durable and forwarded.
/// Users are keyed by their ids' bytes (``OpaqueID``).
struct UserOrdering<Held> {
    private var pendingIngests: [OpaqueID: Int] = [:]
    private var held: [OpaqueID: [Held]] = [:]

    /// Requests held in all.
    private(set) var heldCount = 0

    /// The distinct users of an ingest's events, in first-seen order, for ``ingestStarted(users:)``
    /// and ``ingestFinished(users:)``.
    static func distinctUsers(of userIDs: [String]) -> [OpaqueID] {
        var users: [OpaqueID] = []
        users.reserveCapacity(userIDs.count)
        // Small batches, the common case, compare ids directly: cheaper than building a set.
        if userIDs.count <= 32 {
            for id in userIDs {
                let user = OpaqueID(id)
                if !users.contains(user) { users.append(user) }
            }
            return users
        }
        var seen = Set<OpaqueID>(minimumCapacity: userIDs.count)
        for id in userIDs {
            let user = OpaqueID(id)
            if seen.insert(user).inserted { users.append(user) }
        }
        return users
    }

    /// Notes an ingest in flight for these users (each user once per ingest).
    mutating func ingestStarted(users: [OpaqueID]) {
        for user in users { pendingIngests[user, default: 0] += 1 }
    }

    /// Whether a request for `user` must wait.
    func mustHold(_ user: String) -> Bool {
        pendingIngests[OpaqueID(user)] != nil
    }

    mutating func hold(_ request: Held, for user: String) {
        held[OpaqueID(user), default: []].append(request)
        heldCount += 1
    }

    /// Notes an ingest finished (durable or failed) and returns the requests it released,
    /// in arrival order per user.
    mutating func ingestFinished(users: [OpaqueID]) -> [Held] {
        // Users in the order of their ids' bytes, so that releases do not depend on the order
        // given; only the users with requests to release are sorted (under pure ingest, none).
        var releasing: [(user: OpaqueID, waiting: [Held])] = []
        for user in users {
            // One hash per user: the count is read, lowered or removed at its index.
            guard let index = pendingIngests.index(forKey: user) else { continue }
            let count = pendingIngests.values[index]
            if count > 1 {
                pendingIngests.values[index] = count - 1
                continue
            }
            pendingIngests.remove(at: index)
            if heldCount > 0, let waiting = held.removeValue(forKey: user) { releasing.append((user, waiting)) }
        }
        guard !releasing.isEmpty else { return [] }
        releasing.sort { $0.user.bytes.lexicographicallyPrecedes($1.user.bytes) }
        var released: [Held] = []
        for (_, waiting) in releasing {
            released.append(contentsOf: waiting)
            heldCount -= waiting.count
        }
        return released
    }

    /// Whether nothing is pending or held.
    var isIdle: Bool { pendingIngests.isEmpty && heldCount == 0 }
}
