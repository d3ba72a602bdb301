import Foundation
import MedleyTestSupport
import MedleyModel
import MedleyProtocol
@testable import MedleyTraining
@testable import MedleySystem

/// Streams and settings shared by the trainer's tests.
enum TrainerFixtures {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000

    static func event(_ user: String, _ domain: String, _ item: String, at time: Int64,
                      type: Medley_V1_EventType = .view) -> Medley_V1_SessionEvent {
        var event = Medley_V1_SessionEvent()
        event.userID = user
        event.domain = domain
        event.itemID = item
        event.type = type
        event.timestampMs = time
        return event
    }

    /// A small model, quick to train in a debug build.
    static func configuration(domains: [String] = ["video", "music"], epochs: Int = 8) -> TrainingConfiguration {
        TrainingConfiguration(
            model: ModelConfiguration(domains: domains, embeddingDimension: 16, lastItemSlots: 2, hiddenDimensions: [32]),
            epochs: epochs, batchSize: 64, learningRate: 0.01, validation: .none,
            earlyStopping: EarlyStopping(enabled: false), seed: 7)
    }

    /// Users with a taste: `clusters` clusters of `itemsPerCluster` items in each domain, and
    /// each user likes one cluster in every domain. Warm users' sessions mix video and music;
    /// cold users (`coldPerCluster` per cluster, ids "cold-*") have video only. One event in
    /// ten is a random item of the session's domain. Sessions are events a minute apart,
    /// a day apart from each other.
    static func plantedStream(clusters: Int = 4, itemsPerCluster: Int = 10, warmPerCluster: Int = 10,
                              coldPerCluster: Int = 2, sessions: Int = 6, eventsPerSession: Int = 4,
                              seed: UInt64 = 11) -> [Medley_V1_SessionEvent] {
        var rng = SplitMix64(seed: seed)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var events: [Medley_V1_SessionEvent] = []
        for cluster in 0..<clusters {
            for u in 0..<(warmPerCluster + coldPerCluster) {
                let cold = u >= warmPerCluster
                let user = cold ? "cold-\(cluster)-\(u)" : "warm-\(cluster)-\(u)"
                for s in 0..<sessions {
                    let start = Int64(s) * 24 * hour + Int64(pick(600)) * minute
                    for k in 0..<eventsPerSession {
                        let domain = cold || pick(2) == 0 ? "video" : "music"
                        let itemCluster = pick(10) == 0 ? pick(clusters) : cluster
                        let item = "\(domain.first!)\(itemCluster)-\(pick(itemsPerCluster))"
                        events.append(event(user, domain, item, at: start + Int64(k) * minute))
                    }
                }
            }
        }
        // Log order: by time across users (each user's events stay in time order).
        return events.enumerated().sorted { ($0.element.timestampMs, $0.offset) < ($1.element.timestampMs, $1.offset) }.map(\.element)
    }

    /// An example's term of NDCG@10 as the validation figures count it: the target's rank is
    /// the items scored above it plus half those tied with it.
    static func ndcgTerm(scores: [Float], target: Float) -> Double {
        let above = scores.count { $0 > target }, tied = scores.count { $0 == target }
        let rank = Double(above) + Double(tied - 1) / 2
        return rank < 10 ? 1 / log2(rank + 2) : 0
    }

    /// A new directory, removed when the tests exit.
    static func temporaryDirectory() throws -> URL {
        try TestDirectories.make(prefix: "medley-trainer-tests")
    }
}
