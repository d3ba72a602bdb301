import MedleySystem
import Testing

@testable import MedleyService

/// Users go to workers by rendezvous hashing: the score is the documented FNV-1a and
/// SplitMix64 finaliser, and a user's owner is the worker with the highest score.
@Suite struct WorkerRegistryTests {
    /// The score written out byte by byte, as documented.
    static func documentedScore(_ userID: String, _ workerID: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in Array(userID.utf8) + [0xff] + workerID {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        var z = hash &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    @Test func ownersAreTheWorkersWithTheHighestDocumentedScore() {
        var random = SplitMix64(seed: 11)
        let workers: [[UInt8]] = (0..<5).map { index in [0, UInt8(index), UInt8(truncatingIfNeeded: random.next())] }
        for index in 0..<2_000 {
            let user = index % 3 == 0 ? "" : "user-\(random.next() % 100_000)-\u{E9}"
            for count in 1...workers.count {
                let candidates = Array(workers.prefix(count))
                let scores = candidates.map { Self.documentedScore(user, $0) }
                #expect(scores == candidates.map { WorkerRegistry.rendezvousScore(userID: user, workerID: $0) })
                #expect(WorkerRegistry.ownerIndex(of: user, among: candidates) == scores.indices.max { scores[$0] < scores[$1] })
            }
        }
        #expect(WorkerRegistry.ownerIndex(of: "anyone", among: []) == nil)
    }

    /// A worker's entry changes in place, and only a known worker's: an update of one the
    /// registry does not hold adds nothing.
    @Test func updatesChangeKnownWorkersOnly() {
        var registry = WorkerRegistry()
        _ = registry.add(routingID: [1], name: "w1", now: .now)
        registry.update([1]) { $0.inFlight.insert(5) }
        registry.update([1]) { $0.inFlight.insert(6) }
        registry.update([1]) { $0.inFlight.remove(5) }
        registry.update([9]) { $0.inFlight.insert(7) }
        #expect(registry[[1]]?.inFlight == [6])
        #expect(registry[[9]] == nil && registry.count == 1)
    }
}
