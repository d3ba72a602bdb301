/// A reference to an item: its domain and its id within that domain. Two references are
/// equal when their bytes are (``OpaqueID``).
public struct ItemReference: Sendable, Hashable {
    public var domain: String
    public var id: String

    public init(domain: String, id: String) {
        self.domain = domain
        self.id = id
    }

    public static func == (a: ItemReference, b: ItemReference) -> Bool {
        a.domain.isSameID(as: b.domain) && a.id.isSameID(as: b.id)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(OpaqueID(domain))
        hasher.combine(OpaqueID(id))
    }
}

/// The model's items: row `i` of the item table is `ids[i]` in domain `domains[domainOfItem[i]]`.
///
/// Each domain's items are one contiguous block of rows, in domain order, so that a domain is
/// scored with one matrix product over its block and the session head over the whole table.
public struct ItemCatalog: Sendable, Equatable {
    /// Item ids by row.
    public let ids: [String]
    /// The domain index of each row (non-decreasing).
    public let domainOfItem: [Int]
    /// The rows of each domain.
    public let domainRanges: [Range<Int>]
    private let rowByID: [[OpaqueID: Int]]

    /// Creates a catalogue; throws `.inconsistentVocabulary` when domains are out of range or
    /// not grouped in order, or an id repeats within a domain.
    public init(ids: [String], domainOfItem: [Int], domainCount: Int) throws(ModelFileError) {
        guard ids.count == domainOfItem.count else {
            throw .inconsistentVocabulary("\(ids.count) item ids but \(domainOfItem.count) item domains")
        }
        var ranges: [Range<Int>] = []
        var lookup = [[OpaqueID: Int]](repeating: [:], count: domainCount)
        var start = 0
        for d in 0..<domainCount {
            var end = start
            while end < domainOfItem.count && domainOfItem[end] == d {
                if lookup[d].updateValue(end, forKey: OpaqueID(ids[end])) != nil {
                    throw .inconsistentVocabulary("item id \"\(ids[end])\" appears twice in domain \(d)")
                }
                end += 1
            }
            ranges.append(start..<end)
            start = end
        }
        if start != domainOfItem.count {
            let value = domainOfItem[start]
            throw .inconsistentVocabulary(value < 0 || value >= domainCount
                ? "item row \(start) has domain index \(value), outside 0..<\(domainCount)"
                : "item rows are not grouped by domain in order (row \(start) has domain \(value))")
        }
        self.ids = ids
        self.domainOfItem = domainOfItem
        self.domainRanges = ranges
        self.rowByID = lookup
    }

    /// The number of items.
    public var count: Int { ids.count }

    /// The row of an item, or nil when the model does not know it.
    public func row(domain: Int, id: String) -> Int? {
        guard domain >= 0 && domain < rowByID.count else { return nil }
        return rowByID[domain][OpaqueID(id)]
    }
}

/// The users the model has learned a vector for: row `i` of the user table is `ids[i]`.
public struct UserVocabulary: Sendable, Equatable {
    public let ids: [String]
    private let rowByID: [OpaqueID: Int]

    /// Throws `.inconsistentVocabulary` when an id repeats.
    public init(ids: [String]) throws(ModelFileError) {
        var lookup: [OpaqueID: Int] = [:]
        lookup.reserveCapacity(ids.count)
        for (row, id) in ids.enumerated() where lookup.updateValue(row, forKey: OpaqueID(id)) != nil {
            throw .inconsistentVocabulary("user id \"\(id)\" appears twice")
        }
        self.ids = ids
        self.rowByID = lookup
    }

    public var count: Int { ids.count }

    /// The row of a user, or nil for a user the model has never seen.
    public func row(of id: String) -> Int? { rowByID[OpaqueID(id)] }
}
