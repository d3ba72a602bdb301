import Foundation
import MedleyProtocol
import MedleyTraining

/// A synthetic data set with planted structure, so that tests can check that a model learns
/// what was put in (`medley gen` writes it as events).
///
/// The generative story, all drawn from one seeded generator:
/// - every domain has `clustersPerDomain` cluster centres, unit vectors in one shared latent
///   space; every item lies near its cluster's centre and has a popularity bias;
/// - every user has one taste vector in that space, shared by all domains, and a preference
///   over domains;
/// - a session has a short-term intent: a domain drawn from the user's preference and a
///   cluster of it drawn by the user's taste. Each event stays in the intent domain with
///   probability `intentDomainProbability` (else goes to a domain drawn from the preference),
///   and picks an item of that domain with probability proportional to
///   exp(sharpness · q·v + bias), where q mixes taste and intent centre by `intentStrength`
///   in the intent domain and is the taste alone elsewhere; no item repeats in a session;
/// - an event's type follows the user's affinity u·v: like, complete, play, or skip.
///
/// ``groundTruth`` records all of it.
public struct SyntheticDataset: Sendable {
    /// The generator's parameters.
    public struct Configuration: Sendable, Equatable {
        /// The generator's seed: equal configurations give equal data sets.
        public var seed: UInt64
        /// The number of users.
        public var users: Int
        /// Domain names, in ``DomainOrder``.
        public var domains: [String]
        /// The number of items in each domain.
        public var itemsPerDomain: Int
        /// The number of taste clusters in each domain.
        public var clustersPerDomain: Int
        /// The dimension of the latent space.
        public var dimension: Int
        /// The number of sessions of a user, drawn uniformly from this range.
        public var sessionsPerUser: ClosedRange<Int>
        /// The number of events of a session, drawn uniformly from this range.
        public var eventsPerSession: ClosedRange<Int>
        /// The weight of the session's intent centre against the user's taste, in [0, 1].
        public var intentStrength: Float
        /// The probability that an event stays in the session's intent domain.
        public var intentDomainProbability: Double
        /// How sharply item choice follows the latent score.
        public var sharpness: Float
        /// How far items scatter around their cluster centre.
        public var itemSpread: Float
        /// The standard deviation of the item popularity bias.
        public var popularitySpread: Float
        /// The first session's earliest start, milliseconds since the Unix epoch.
        public var startMilliseconds: Int64

        public init(seed: UInt64 = 1, users: Int = 300, domains: [String] = DomainOrder.standard,
                    itemsPerDomain: Int = 120, clustersPerDomain: Int = 6, dimension: Int = 8,
                    sessionsPerUser: ClosedRange<Int> = 6...12, eventsPerSession: ClosedRange<Int> = 3...8,
                    intentStrength: Float = 0.6, intentDomainProbability: Double = 0.85,
                    sharpness: Float = 6, itemSpread: Float = 0.35, popularitySpread: Float = 0.5,
                    startMilliseconds: Int64 = 1_700_000_000_000) {
            self.seed = seed
            self.users = users
            self.domains = domains
            self.itemsPerDomain = itemsPerDomain
            self.clustersPerDomain = clustersPerDomain
            self.dimension = dimension
            self.sessionsPerUser = sessionsPerUser
            self.eventsPerSession = eventsPerSession
            self.intentStrength = intentStrength
            self.intentDomainProbability = intentDomainProbability
            self.sharpness = sharpness
            self.itemSpread = itemSpread
            self.popularitySpread = popularitySpread
            self.startMilliseconds = startMilliseconds
        }
    }

    /// One session's planted intent.
    public struct PlantedSession: Sendable, Equatable {
        /// The user's identifier.
        public var user: String
        /// The session's identifier, as in the events.
        public var sessionID: String
        /// The intent domain's index in `Configuration.domains`.
        public var domain: Int
        /// The intent cluster within that domain.
        public var cluster: Int
    }

    /// Everything that was planted.
    public struct GroundTruth: Sendable, Equatable {
        /// User identifiers, in generation order.
        public var userIDs: [String]
        /// Each user's taste vector (unit length).
        public var userTaste: [[Float]]
        /// Each user's probability of choosing each domain for a session.
        public var userDomainPreference: [[Double]]
        /// Item identifiers, unique across domains, in generation order.
        public var itemIDs: [String]
        /// Each item's domain index.
        public var itemDomain: [Int]
        /// Each item's cluster within its domain.
        public var itemCluster: [Int]
        /// Each item's latent vector.
        public var itemVector: [[Float]]
        /// Each item's popularity bias.
        public var itemBias: [Float]
        /// Cluster centres, by domain then cluster.
        public var clusterCentres: [[[Float]]]
        /// Every session's intent, in generation order.
        public var sessions: [PlantedSession]
        /// The sharpness items were chosen with.
        public var sharpness: Float

        /// The long-term part of the planted choice score of an item for a user (by
        /// generation indices): sharpness · taste·v + bias.
        public func tasteScore(user: Int, item: Int) -> Float {
            sharpness * dot(userTaste[user], itemVector[item]) + itemBias[item]
        }
    }

    /// The parameters it was generated with.
    public let configuration: Configuration
    /// The events, chronologically (ties in user order), with session ids `"<user>-<n>"`.
    public let events: [Medley_V1_SessionEvent]
    /// What was planted.
    public let groundTruth: GroundTruth

    /// Generates the data set; the same configuration gives the same data set.
    public init(configuration: Configuration = Configuration()) {
        let c = configuration
        precondition(c.users > 0 && !c.domains.isEmpty && c.itemsPerDomain > 0 && c.clustersPerDomain > 0 && c.dimension > 0,
                     "users, domains, items, clusters and dimension must be positive")
        precondition(c.eventsPerSession.lowerBound >= 1 && c.eventsPerSession.upperBound <= c.itemsPerDomain,
                     "a session has at least one event and cannot repeat items")
        var random = SeededRandom(seed: c.seed)

        let centres = c.domains.map { _ in (0..<c.clustersPerDomain).map { _ in random.unitVector(dimension: c.dimension) } }
        var itemIDs: [String] = [], itemDomain: [Int] = [], itemCluster: [Int] = []
        var itemVector: [[Float]] = [], itemBias: [Float] = []
        var domainItems = [[Int]](repeating: [], count: c.domains.count)
        for (d, domain) in c.domains.enumerated() {
            for i in 0..<c.itemsPerDomain {
                let cluster = random.integer(in: 0...(c.clustersPerDomain - 1))
                let noise = (0..<c.dimension).map { _ in c.itemSpread * Float(random.gaussian()) }
                domainItems[d].append(itemIDs.count)
                itemIDs.append("\(domain)-\(i + 1)")
                itemDomain.append(d)
                itemCluster.append(cluster)
                itemVector.append(normalized(zip(centres[d][cluster], noise).map { $0 + $1 }))
                itemBias.append(c.popularitySpread * Float(random.gaussian()))
            }
        }

        var userIDs: [String] = [], tastes: [[Float]] = [], preferences: [[Double]] = []
        var planted: [PlantedSession] = []
        var events: [(event: Medley_V1_SessionEvent, user: Int)] = []
        for u in 0..<c.users {
            let user = "user-\(u + 1)"
            let taste = random.unitVector(dimension: c.dimension)
            // A flat Dirichlet draw: normalised exponential variables.
            let raw = c.domains.map { _ in -log(max(random.uniform(), 0x1p-53)) }
            let preference = raw.map { $0 / raw.reduce(0, +) }
            userIDs.append(user)
            tastes.append(taste)
            preferences.append(preference)

            var time = c.startMilliseconds + Int64(random.integer(in: 0...(30 * 24 * 3600))) * 1000
            for s in 0..<random.integer(in: c.sessionsPerUser) {
                let sessionID = Sessionizer.sessionID(user: user, number: s + 1)
                let domain = random.index(weights: preference)
                let cluster = random.index(weights: centres[domain].map { Double(exp(c.sharpness * dot(taste, $0))) })
                planted.append(PlantedSession(user: user, sessionID: sessionID, domain: domain, cluster: cluster))
                let intentQuery = normalized(zip(taste, centres[domain][cluster]).map {
                    (1 - c.intentStrength) * $0 + c.intentStrength * $1
                })
                var used = Set<Int>()
                for e in 0..<random.integer(in: c.eventsPerSession) {
                    if e > 0 { time += Int64(random.integer(in: 20...600)) * 1000 }
                    let stays = random.uniform() < c.intentDomainProbability
                    let eventDomain = stays ? domain : random.index(weights: preference)
                    let query = eventDomain == domain ? intentQuery : taste
                    let candidates = domainItems[eventDomain].filter { !used.contains($0) }
                    guard !candidates.isEmpty else { continue }
                    let weights = candidates.map { Double(exp(c.sharpness * dot(query, itemVector[$0]) + itemBias[$0])) }
                    let item = candidates[random.index(weights: weights)]
                    used.insert(item)

                    var event = Medley_V1_SessionEvent()
                    event.userID = user
                    event.itemID = itemIDs[item]
                    event.domain = c.domains[eventDomain]
                    event.type = Self.eventType(affinity: dot(taste, itemVector[item]))
                    event.timestampMs = time
                    event.sessionID = sessionID
                    events.append((event, u))
                }
                // The next session starts well past the sessionizer's 30-minute gap.
                time += Int64(random.integer(in: 2 * 3600...3 * 24 * 3600)) * 1000
            }
        }
        self.configuration = configuration
        self.events = events.enumerated()
            .sorted { a, b in
                a.element.event.timestampMs != b.element.event.timestampMs
                    ? a.element.event.timestampMs < b.element.event.timestampMs
                    : a.offset < b.offset
            }
            .map(\.element.event)
        self.groundTruth = GroundTruth(userIDs: userIDs, userTaste: tastes, userDomainPreference: preferences,
                                       itemIDs: itemIDs, itemDomain: itemDomain, itemCluster: itemCluster,
                                       itemVector: itemVector, itemBias: itemBias, clusterCentres: centres,
                                       sessions: planted, sharpness: c.sharpness)
    }

    /// How much the user liked what they picked: the planted affinity decides the type.
    static func eventType(affinity: Float) -> Medley_V1_EventType {
        switch affinity {
        case 0.6...: .like
        case 0.3..<0.6: .complete
        case 0..<0.3: .play
        default: .skip
        }
    }
}
