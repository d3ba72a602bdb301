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

    subscript(routingID: [UInt8]) -> Worker? {
        get { workers[routingID] }
        set { workers[routingID] = newValue }
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
        let userHash = fnv1a(userID.utf8, separatorAfter: true)
        var best: Int?
        var bestScore: UInt64 = 0
        for (index, candidate) in candidates.enumerated() {
            let score = finalized(fnv1a(candidate, separatorAfter: false, from: userHash))
            if best == nil || score > bestScore || (score == bestScore && candidate.lexicographicallyPrecedes(candidates[best!])) {
                best = index
                bestScore = score
            }
        }
        return best
    }

    /// FNV-1a over the user id, a separator and the worker id, then a SplitMix64 finaliser to
    /// spread FNV's weak low bits. Stable across processes, unlike `Hasher`.
    static func rendezvousScore(userID: String, workerID: [UInt8]) -> UInt64 {
        finalized(fnv1a(workerID, separatorAfter: false, from: fnv1a(userID.utf8, separatorAfter: true)))
    }

    private static func fnv1a(_ bytes: some Sequence<UInt8>, separatorAfter: Bool, from start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var hash = start
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        if separatorAfter {
            hash ^= 0xff
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    private static func finalized(_ hash: UInt64) -> UInt64 {
        var z = hash &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
