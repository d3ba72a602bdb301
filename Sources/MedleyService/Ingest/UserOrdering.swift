/// Keeps each user's requests in arrival order across the asynchronous event log.
///
/// An ingest waits for its fsync before its events reach the user's worker; a recommend
/// request that arrives meanwhile must not overtake those events, so it is held until the
/// ingests before it that may touch its user are durable and forwarded. Ingests finish in the
/// order they started (the log completes them in order), so a held request waits for the
/// latest of them only, and ingests that start after it do not prolong its wait.
///
/// Users are placed in 65,536 buckets of their ids' hashes, not kept one by one: each
/// ingested event marks its user's bucket with its ingest's number, an array store where a
/// dictionary of users cost a hash, an allocation and a removal per event (an eighth of the
/// broker's time under ingest). A bucket whose mark is an ingest not yet finished holds
/// requests, so a request may also wait behind an ingest of another user in its bucket: never
/// past that ingest's sync, and never ahead of its own user's events.
struct UserOrdering<Held> {
    static var bucketCount: Int { 1 << 16 }

    /// The latest ingest that touched each bucket (0: none).
    private var latestIngest = [UInt64](repeating: 0, count: 1 << 16)
    /// The latest ingest started, and the latest finished: every ingest up to it has.
    private var lastStarted: UInt64 = 0
    private var lastFinished: UInt64 = 0
    /// Held requests in arrival order, each with the ingest it waits for.
    private var held: [(user: String, arrival: UInt64, waitsFor: UInt64, request: Held)] = []
    private var arrivals: UInt64 = 0

    /// Requests held in all.
    var heldCount: Int { held.count }

    /// The bucket of a user id (``StableUserHash``).
    static func bucket(of userID: String) -> Int {
        Int(truncatingIfNeeded: StableUserHash.finalized(StableUserHash.mix(userID)) & UInt64(bucketCount - 1))
    }

    /// Notes an ingest in flight; `ingest` numbers ingests from 1 in the order they start,
    /// which is the order they finish.
    mutating func ingestStarted(userIDs: some Sequence<String>, ingest: UInt64) {
        precondition(ingest > lastStarted, "ingests are numbered in the order they start")
        for userID in userIDs { latestIngest[Self.bucket(of: userID)] = ingest }
        lastStarted = ingest
    }

    /// Whether a request for `user` must wait: an ingest that touched its bucket has not finished.
    func mustHold(_ user: String) -> Bool {
        latestIngest[Self.bucket(of: user)] > lastFinished
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
    mutating func ingestFinished(_ ingest: UInt64) -> [Held] {
        lastFinished = ingest
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
    var isIdle: Bool { lastFinished == lastStarted && held.isEmpty }
}
