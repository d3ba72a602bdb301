/// Keeps each user's requests in arrival order across the asynchronous event log.
///
/// An ingest waits for its fsync before its events reach the user's worker; a recommend
/// request that arrives meanwhile must not overtake those events, so it is held until the
/// ingests before it that may touch its user are durable and forwarded. Ingests finish in the
/// order they started (the log completes them in order), so a held request waits for the
/// latest of them only, and ingests that start after it do not prolong its wait.
///
/// Users are counted in buckets of their ids' bytes, not one by one: every ingested event
/// adds one to its user's bucket and takes it away when the ingest finishes, an array
/// increment where a dictionary of users cost a hash, an allocation and a removal per event
/// (an eighth of the broker's time under ingest). A request waits when its bucket has events
/// on their way to disk, for the latest ingest that touched the bucket, so it may also wait
/// behind an ingest of another user in its bucket (one bucket in 65,536): never past that
/// ingest's sync, and never ahead of its own user's events.
struct UserOrdering<Held> {
    static var bucketCount: Int { 1 << 16 }

    /// Events on their way to disk, per bucket.
    private var pendingEvents = [UInt32](repeating: 0, count: 1 << 16)
    /// Buckets with events on their way to disk.
    private var pendingBuckets = 0
    /// The latest ingest that touched each bucket.
    private var latestIngest = [UInt64](repeating: 0, count: 1 << 16)
    /// Held requests in arrival order, each with the ingest it waits for.
    private var held: [(user: String, arrival: UInt64, waitsFor: UInt64, request: Held)] = []
    private var arrivals: UInt64 = 0

    /// Requests held in all.
    var heldCount: Int { held.count }

    /// The bucket of a user id (``StableUserHash``).
    static func bucket(of userID: String) -> Int {
        Int(truncatingIfNeeded: StableUserHash.finalized(StableUserHash.mix(userID)) & UInt64(bucketCount - 1))
    }

    /// Notes an ingest in flight, `ingest` numbering ingests in the order they start and finish;
    /// returns its events' buckets, which ``ingestFinished(buckets:ingest:)`` takes.
    mutating func ingestStarted(userIDs: [String], ingest: UInt64) -> [Int] {
        userIDs.map { userID in
            let bucket = Self.bucket(of: userID)
            if pendingEvents[bucket] == 0 { pendingBuckets += 1 }
            pendingEvents[bucket] += 1
            latestIngest[bucket] = ingest
            return bucket
        }
    }

    /// Whether a request for `user` must wait.
    func mustHold(_ user: String) -> Bool {
        pendingEvents[Self.bucket(of: user)] != 0
    }

    /// Holds a request that ``mustHold(_:)`` said must wait: until the latest ingest that
    /// touched its bucket finishes.
    mutating func hold(_ request: Held, for user: String) {
        held.append((user, arrivals, latestIngest[Self.bucket(of: user)], request))
        arrivals += 1
    }

    /// Notes that `ingest` finished (durable or failed), after every ingest that started
    /// before it, and returns the requests it released: in arrival order per user, users in
    /// the order of their ids' bytes, so that releases do not depend on the buckets. Only
    /// released requests are sorted (under pure ingest, none).
    mutating func ingestFinished(buckets: [Int], ingest: UInt64) -> [Held] {
        for bucket in buckets {
            pendingEvents[bucket] -= 1
            if pendingEvents[bucket] == 0 { pendingBuckets -= 1 }
        }
        guard !held.isEmpty else { return [] }
        var releasing: [(user: String, arrival: UInt64, waitsFor: UInt64, request: Held)] = []
        var waiting: [(user: String, arrival: UInt64, waitsFor: UInt64, request: Held)] = []
        for entry in held {
            if entry.waitsFor <= ingest { releasing.append(entry) } else { waiting.append(entry) }
        }
        guard !releasing.isEmpty else { return [] }
        held = waiting
        releasing.sort { a, b in
            a.user.utf8.elementsEqual(b.user.utf8) ? a.arrival < b.arrival : a.user.utf8.lexicographicallyPrecedes(b.user.utf8)
        }
        return releasing.map(\.request)
    }

    /// Whether nothing is pending or held.
    var isIdle: Bool { pendingBuckets == 0 && held.isEmpty }
}
