import MedleyProtocol

/// Converts a MovieLens data set into Medley session events: genres give each item its
/// domain and ratings give each event its type (both by a ``GenreDomainMapping``), and each
/// user's ratings are cut into sessions by the ``Sessionizer``.
public enum MovieLensImport {
    /// How a data set is converted.
    public struct Options: Sendable {
        /// The genre and rating mapping.
        public var mapping: GenreDomainMapping
        /// Sessions are cut where a user is inactive for longer than this.
        public var sessionGapSeconds: Int64

        public init(mapping: GenreDomainMapping = .movieLensV1, sessionGapSeconds: Int64 = Sessionizer.defaultGapSeconds) {
            self.mapping = mapping
            self.sessionGapSeconds = sessionGapSeconds
        }
    }

    /// What a conversion produced, for the import command's report.
    public struct Summary: Sendable, Equatable {
        /// Users with at least one event.
        public var users = 0
        /// Distinct items with at least one event.
        public var items = 0
        /// Sessions over all users.
        public var sessions = 0
        /// Events per domain.
        public var eventsByDomain: [String: Int] = [:]
        /// Events per type name (`like`, `skip`...).
        public var eventsByType: [String: Int] = [:]
        /// Items rated but missing from the item file; they take the default domain.
        public var itemsWithoutGenres = 0
        /// Genres the mapping does not list, with the number of items carrying each.
        public var unlistedGenres: [String: Int] = [:]
        /// The mapping's version.
        public var mappingVersion = 0
    }

    /// The converted events and the summary.
    public struct Result: Sendable {
        /// Every interaction as an event, in chronological order (ties in file order), so each
        /// user's events are in the order they happened, as the event log expects.
        public var events: [Medley_V1_SessionEvent]
        /// Counts for the import command's report.
        public var summary: Summary
    }

    /// Converts a whole data set.
    public static func convert(_ dataset: MovieLensDataset, options: Options = Options()) -> Result {
        let mapping = options.mapping
        let domains = dataset.itemDomains(mapping: mapping)
        var summary = Summary()
        summary.mappingVersion = mapping.version
        for genres in dataset.itemGenres.values {
            for genre in genres where !mapping.lists(genre: genre) {
                summary.unlistedGenres[genre, default: 0] += 1
            }
        }
        var ratedItems = Set<String>()

        // Session ids depend on each user's own ordering; the output is then ordered globally.
        var sessionNumber: [Int: Int] = [:]  // by `Interaction.order`, unique within a data set
        sessionNumber.reserveCapacity(dataset.interactions.count)
        let users = Sessionizer.sessions(of: dataset.interactions, gapSeconds: options.sessionGapSeconds)
        for user in users {
            for (number, session) in user.sessions.enumerated() {
                for interaction in session { sessionNumber[interaction.order] = number + 1 }
            }
            summary.sessions += user.sessions.count
        }
        summary.users = users.count

        var events: [Medley_V1_SessionEvent] = []
        events.reserveCapacity(dataset.interactions.count)
        for interaction in dataset.interactions.sorted(by: Interaction.chronological) {
            ratedItems.insert(interaction.item)
            let domain = domains[interaction.item] ?? mapping.defaultDomain
            // A file without ratings records that the user watched the film.
            let type = interaction.rating.map(mapping.eventType(forRating:)) ?? .view
            var event = Medley_V1_SessionEvent()
            event.userID = interaction.user
            event.itemID = interaction.item
            event.domain = domain
            event.type = type
            event.timestampMs = interaction.timestamp * 1000
            event.sessionID = Sessionizer.sessionID(user: interaction.user, number: sessionNumber[interaction.order] ?? 1)
            events.append(event)
            summary.eventsByDomain[domain, default: 0] += 1
            summary.eventsByType[GenreDomainMapping.name(of: type), default: 0] += 1
        }
        summary.items = ratedItems.count
        summary.itemsWithoutGenres = ratedItems.filter { dataset.itemGenres[$0] == nil }.count
        return Result(events: events, summary: summary)
    }

    /// The converted event stream only.
    public static func events(_ dataset: MovieLensDataset, options: Options = Options()) -> [Medley_V1_SessionEvent] {
        convert(dataset, options: options).events
    }
}
