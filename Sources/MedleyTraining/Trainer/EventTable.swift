import MedleyEventConversion
import MedleyModel
import MedleyProtocol

/// The usable events of a stream, resolved to vocabulary rows and grouped by user, each user's
/// events in time order (ties keep stream order), with the session each event belongs to.
///
/// Columns rather than an array of structs: the trainer reads one or two columns per example,
/// and a million events stay a few tens of megabytes.
struct EventTable: Sendable {
    /// Per event: the user's row, the item's row, the event type and the time (ms).
    var userRows: [Int32] = []
    var itemRows: [Int32] = []
    var types: [EventType] = []
    var timestamps: [Int64] = []
    /// Per event: the client's weight for it, NaN when it set none (a client's weight is
    /// finite: ingest refuses others).
    var clientWeights: [Float] = []
    /// Per event: the index of the first event of its session.
    var sessionStarts: [Int32] = []
    /// Per user row: the user's events.
    var userRanges: [Range<Int>] = []

    var count: Int { itemRows.count }

    /// The event's weight in the session encoding: the client's, or the model's for its type
    /// (as ``InputEncoder`` weights a served event).
    func weight(of event: Int, eventWeights: EventWeights) -> Float {
        clientWeights[event].isNaN ? eventWeights[types[event]] : clientWeights[event]
    }
}

/// Events refused while reading a stream, by reason.
public struct DroppedEvents: Sendable, Equatable {
    /// Empty user or item id.
    public var missingIdentifier = 0
    /// A domain the model does not have.
    public var unknownDomain = 0
    /// EVENT_TYPE_UNSPECIFIED or a value this version does not know.
    public var unknownType = 0

    public var total: Int { missingIdentifier + unknownDomain + unknownType }
}

extension EventTable {
    /// Reads a stream: builds the vocabularies (items in order of first appearance within each
    /// domain, so that each domain's items are one block of rows as the model file requires;
    /// users in order of first appearance), groups the events by user in time order, and cuts
    /// sessions at gaps longer than `sessionGap` or where the client's session id changes.
    static func build(
        from stream: [Medley_V1_SessionEvent], domains: [String], sessionGap: Int64
    ) throws(TrainingError) -> (table: EventTable, catalog: ItemCatalog, users: UserVocabulary, dropped: DroppedEvents) {
        let domainIndex = Dictionary(uniqueKeysWithValues: domains.enumerated().map { ($1, $0) })
        // Rows and positions are stored as Int32 to halve the tables' size.
        guard stream.count < Int(Int32.max) else {
            throw .invalidConfiguration("events", "more than \(Int32.max - 1) events in one training run")
        }
        var dropped = DroppedEvents()
        // Keyed by the ids' bytes, as the service keys them (ids are opaque, not normalised).
        var itemIndex = [[OpaqueID: Int]](repeating: [:], count: domains.count)
        var itemIDs = [[String]](repeating: [], count: domains.count)
        var userIndex: [OpaqueID: Int] = [:]
        var userIDs: [String] = []

        // First pass: vocabularies, and each usable event as (user, domain, local item, what the
        // model reads of it, stream position). The model's event is taken apart here, so that the
        // sort below moves small values rather than its strings.
        var usable: [(user: Int32, domain: Int32, item: Int32, type: EventType, clientWeight: Float, time: Int64, position: Int32)] = []
        usable.reserveCapacity(stream.count)
        for (position, event) in stream.enumerated() {
            guard !event.userID.isEmpty, !event.itemID.isEmpty else { dropped.missingIdentifier += 1; continue }
            guard let domain = domainIndex[event.domain] else { dropped.unknownDomain += 1; continue }
            guard let modelEvent = SessionEvent(event) else { dropped.unknownType += 1; continue }
            let item: Int
            if let known = itemIndex[domain][OpaqueID(event.itemID)] {
                item = known
            } else {
                item = itemIDs[domain].count
                itemIndex[domain][OpaqueID(event.itemID)] = item
                itemIDs[domain].append(event.itemID)
            }
            let user: Int
            if let known = userIndex[OpaqueID(event.userID)] {
                user = known
            } else {
                user = userIDs.count
                userIndex[OpaqueID(event.userID)] = user
                userIDs.append(event.userID)
            }
            usable.append((Int32(user), Int32(domain), Int32(item), modelEvent.type, modelEvent.weight ?? .nan,
                           modelEvent.timestampMilliseconds, Int32(position)))
        }
        guard !usable.isEmpty else { throw .noUsableEvents }

        let catalog: ItemCatalog
        let users: UserVocabulary
        do {
            catalog = try ItemCatalog(ids: itemIDs.flatMap { $0 },
                                      domainOfItem: itemIDs.enumerated().flatMap { Array(repeating: $0.offset, count: $0.element.count) },
                                      domainCount: domains.count)
            users = try UserVocabulary(ids: userIDs)
        } catch {
            throw .model(error)
        }
        let domainStarts = catalog.domainRanges.map(\.lowerBound)

        // Group by user, then time, then stream position: a total order, so the result does
        // not depend on the sort's stability.
        usable.sort {
            if $0.user != $1.user { return $0.user < $1.user }
            if $0.time != $1.time { return $0.time < $1.time }
            return $0.position < $1.position
        }

        var table = EventTable()
        table.userRows.reserveCapacity(usable.count)
        table.itemRows.reserveCapacity(usable.count)
        table.types.reserveCapacity(usable.count)
        table.timestamps.reserveCapacity(usable.count)
        table.clientWeights.reserveCapacity(usable.count)
        table.sessionStarts.reserveCapacity(usable.count)
        table.userRanges = Array(repeating: 0..<0, count: users.count)
        var userStart = 0
        for (i, entry) in usable.enumerated() {
            let event = stream[Int(entry.position)]
            let firstOfUser = i == 0 || usable[i - 1].user != entry.user
            if firstOfUser {
                if i > 0 { table.userRanges[Int(usable[i - 1].user)] = userStart..<i }
                userStart = i
            }
            let newSession: Bool
            if firstOfUser {
                newSession = true
            } else {
                let previous = stream[Int(usable[i - 1].position)]
                newSession = event.timestampMs - previous.timestampMs > sessionGap
                    || previous.hasSessionID != event.hasSessionID
                    || (event.hasSessionID && previous.sessionID != event.sessionID)
            }
            table.userRows.append(entry.user)
            table.itemRows.append(Int32(domainStarts[Int(entry.domain)]) + entry.item)
            table.types.append(entry.type)
            table.timestamps.append(entry.time)
            table.clientWeights.append(entry.clientWeight)
            table.sessionStarts.append(newSession ? Int32(i) : table.sessionStarts[i - 1])
        }
        table.userRanges[Int(usable[usable.count - 1].user)] = userStart..<usable.count
        return (table, catalog, users, dropped)
    }
}
