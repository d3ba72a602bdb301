import MedleyProtocol

/// The workers the broker routes to, with user affinity by rendezvous hashing: a user's
/// owner is the live worker with the highest hash of (user, worker), so a worker joining or
/// leaving moves only the users it gains or had.
struct WorkerRegistry {
    struct Worker {
        let routingID: [UInt8]
        let name: String
        let index: UInt32
        var lastHeard: ContinuousClock.Instant
        var lastSentHeartbeat: ContinuousClock.Instant
        var stats = Medley_V1_WorkerStats()
        /// Tickets of requests this worker has not answered yet.
        var inFlight: Set<UInt64> = []
    }

    private(set) var workers: [[UInt8]: Worker] = [:]
    private var nextIndex: UInt32 = 0

    var isEmpty: Bool { workers.isEmpty }
    var count: Int { workers.count }
    var routingIDs: [[UInt8]] { workers.keys.sorted { $0.lexicographicallyPrecedes($1) } }

    subscript(routingID: [UInt8]) -> Worker? { workers[routingID] }

    /// Changes a known worker's entry in place: a copy out and back would copy its tickets in
    /// flight on every request and reply.
    mutating func update(_ routingID: [UInt8], _ change: (inout Worker) -> Void) {
        guard workers[routingID] != nil else { return }
        change(&workers[routingID]!)
    }

    /// Adds a worker; returns false if it was already known.
    mutating func add(routingID: [UInt8], name: String, now: ContinuousClock.Instant) -> Bool {
        guard workers[routingID] == nil else { return false }
        workers[routingID] = Worker(routingID: routingID, name: name, index: nextIndex, lastHeard: now, lastSentHeartbeat: now)
        nextIndex += 1
        return true
    }

    mutating func remove(_ routingID: [UInt8]) -> Worker? {
        workers.removeValue(forKey: routingID)
    }

    /// The worker that owns a user, among `candidates` (the live workers by default).
    func owner(of userID: String, among candidates: [[UInt8]]? = nil) -> [UInt8]? {
        Self.owner(of: userID, among: candidates ?? Array(workers.keys))
    }

    /// Rendezvous hashing; ties (astronomically rare) go to the lower routing id.
    static func owner(of userID: String, among candidates: [[UInt8]]) -> [UInt8]? {
        ownerIndex(of: userID, among: candidates).map { candidates[$0] }
    }

    /// The index in `candidates` of ``owner(of:among:)``.
    static func ownerIndex(of userID: String, among candidates: [[UInt8]]) -> Int? {
        // The user's part of the hash is the same for every candidate: made once.
        let userHash = userPart(userID)
        var best: Int?
        var bestScore: UInt64 = 0
        for (index, candidate) in candidates.enumerated() {
            let score = StableUserHash.finalized(StableUserHash.mix(candidate, into: userHash))
            if best == nil || score > bestScore || (score == bestScore && candidate.lexicographicallyPrecedes(candidates[best!])) {
                best = index
                bestScore = score
            }
        }
        return best
    }

    /// ``StableUserHash`` over the user id, a separator byte and the worker id.
    static func rendezvousScore(userID: String, workerID: [UInt8]) -> UInt64 {
        StableUserHash.finalized(StableUserHash.mix(workerID, into: userPart(userID)))
    }

    private static func userPart(_ userID: String) -> UInt64 {
        StableUserHash.mix(CollectionOfOne(0xff), into: StableUserHash.mix(userID))
    }
}
