import MedleyProtocol

/// Interactions indexed for training and evaluation: items and users numbered from 0, and
/// each user's items in chronological order (ties in input order).
///
/// Items are grouped by domain, in ``DomainOrder``, so that each domain is one contiguous
/// range of item indices, as in the model's item table; within a domain they keep the order
/// in which they first appear.
public struct SequenceDataset: Sendable {
    /// Domain names, in ``DomainOrder``.
    public let domains: [String]
    /// Item identifiers by item index.
    public let itemIDs: [String]
    /// The domain index of each item (non-decreasing).
    public let itemDomain: [Int]
    /// The item indices of each domain.
    public let domainRanges: [Range<Int>]
    /// User identifiers by user index.
    public let userIDs: [String]
    /// Each user's items, chronologically.
    public let sequences: [[Int]]
    /// The time of each entry of `sequences`, in milliseconds since the Unix epoch.
    public let timestamps: [[Int64]]
    /// The event type of each entry of `sequences`.
    public let eventTypes: [[Medley_V1_EventType]]

    /// The number of items.
    public var itemCount: Int { itemIDs.count }
    /// The number of users.
    public var userCount: Int { userIDs.count }
    /// The number of interactions.
    public var interactionCount: Int { sequences.reduce(0) { $0 + $1.count } }

    /// One interaction to index: who, what (an item is its domain and id), when and how.
    public struct Entry: Sendable {
        public var user: String
        public var item: String
        public var domain: String
        public var timestampMilliseconds: Int64
        public var type: Medley_V1_EventType

        public init(user: String, item: String, domain: String, timestampMilliseconds: Int64, type: Medley_V1_EventType) {
            self.user = user
            self.item = item
            self.domain = domain
            self.timestampMilliseconds = timestampMilliseconds
            self.type = type
        }
    }

    /// Indexes entries; their input order breaks timestamp ties. Users are numbered in order
    /// of first appearance. An item id seen in two domains is two items.
    public init(entries: [Entry]) {
        struct ItemKey: Hashable { var domain: String; var id: String }
        let domains = DomainOrder.sorted(entries.map(\.domain))
        let domainIndex = Dictionary(uniqueKeysWithValues: domains.enumerated().map { ($1, $0) })

        var itemsByDomain = [[String]](repeating: [], count: domains.count)
        var seenItems = Set<ItemKey>()
        var userIndex: [String: Int] = [:]
        var userIDs: [String] = []
        for entry in entries {
            if seenItems.insert(ItemKey(domain: entry.domain, id: entry.item)).inserted {
                itemsByDomain[domainIndex[entry.domain]!].append(entry.item)
            }
            if userIndex[entry.user] == nil {
                userIndex[entry.user] = userIDs.count
                userIDs.append(entry.user)
            }
        }
        var itemIndex: [ItemKey: Int] = [:]
        var itemIDs: [String] = []
        var itemDomain: [Int] = []
        var ranges: [Range<Int>] = []
        for (d, items) in itemsByDomain.enumerated() {
            let start = itemIDs.count
            for id in items {
                itemIndex[ItemKey(domain: domains[d], id: id)] = itemIDs.count
                itemIDs.append(id)
                itemDomain.append(d)
            }
            ranges.append(start..<itemIDs.count)
        }

        var rows = [[(time: Int64, order: Int, item: Int, type: Medley_V1_EventType)]](repeating: [], count: userIDs.count)
        for (order, entry) in entries.enumerated() {
            let item = itemIndex[ItemKey(domain: entry.domain, id: entry.item)]!
            rows[userIndex[entry.user]!].append((entry.timestampMilliseconds, order, item, entry.type))
        }
        for u in rows.indices {
            rows[u].sort { $0.time != $1.time ? $0.time < $1.time : $0.order < $1.order }
        }
        self.domains = domains
        self.itemIDs = itemIDs
        self.itemDomain = itemDomain
        self.domainRanges = ranges
        self.userIDs = userIDs
        self.sequences = rows.map { $0.map(\.item) }
        self.timestamps = rows.map { $0.map(\.time) }
        self.eventTypes = rows.map { $0.map(\.type) }
    }

    /// Indexes session events (as converted, generated or read from the event log).
    public init(events: [Medley_V1_SessionEvent]) {
        self.init(entries: events.map {
            Entry(user: $0.userID, item: $0.itemID, domain: $0.domain, timestampMilliseconds: $0.timestampMs, type: $0.type)
        })
    }

    /// Indexes interactions read from a data set; items take their domain from `itemDomains`
    /// (or `defaultDomain`) and their event type from the mapping's rating rule. Input order is
    /// `Interaction.order`, so ties break as in the file.
    public init(interactions: [Interaction], itemDomains: [String: String], mapping: GenreDomainMapping = .movieLensV1) {
        let ordered = interactions.sorted { $0.order < $1.order }
        self.init(entries: ordered.map {
            Entry(user: $0.user, item: $0.item, domain: itemDomains[$0.item] ?? mapping.defaultDomain,
                  timestampMilliseconds: $0.timestamp * 1000,
                  type: $0.rating.map(mapping.eventType(forRating:)) ?? .view)
        })
    }
}

extension SequenceDataset {
    /// A data set from its parts (users may share an id: the cold protocol's probes do).
    package init(domains: [String], itemIDs: [String], itemDomain: [Int], domainRanges: [Range<Int>], userIDs: [String],
         sequences: [[Int]], timestamps: [[Int64]], eventTypes: [[Medley_V1_EventType]]) {
        self.domains = domains
        self.itemIDs = itemIDs
        self.itemDomain = itemDomain
        self.domainRanges = domainRanges
        self.userIDs = userIDs
        self.sequences = sequences
        self.timestamps = timestamps
        self.eventTypes = eventTypes
    }
}
