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
/// The ids are packed (``PackedIDs``) and found by ``IDRowIndex``: a catalogue of millions of
/// items is a few large arrays, not an allocation per id.
public struct ItemCatalog: Sendable, Equatable {
    /// Item ids by row.
    public let ids: PackedIDs
    /// The domain index of each row (non-decreasing).
    public let domainOfItem: [Int]
    /// The rows of each domain.
    public let domainRanges: [Range<Int>]
    private let index: IDRowIndex

    /// Creates a catalogue; throws `.inconsistentVocabulary` when domains are out of range or
    /// not grouped in order, or an id is empty or repeats within a domain.
    public init(ids: [String], domainOfItem: [Int], domainCount: Int) throws(ModelFileError) {
        try self.init(ids: PackedIDs(ids), domainOfItem: domainOfItem, domainCount: domainCount)
    }

    /// ``init(ids:domainOfItem:domainCount:)-([String],_,_)`` over packed ids.
    public init(ids: PackedIDs, domainOfItem: [Int], domainCount: Int) throws(ModelFileError) {
        guard ids.count == domainOfItem.count else {
            throw .inconsistentVocabulary("\(ids.count) item ids but \(domainOfItem.count) item domains")
        }
        var ranges: [Range<Int>] = []
        var start = 0
        for d in 0..<domainCount {
            var end = start
            while end < domainOfItem.count && domainOfItem[end] == d { end += 1 }
            ranges.append(start..<end)
            start = end
        }
        if start != domainOfItem.count {
            let value = domainOfItem[start]
            throw .inconsistentVocabulary(value < 0 || value >= domainCount
                ? "item row \(start) has domain index \(value), outside 0..<\(domainCount)"
                : "item rows are not grouped by domain in order (row \(start) has domain \(value))")
        }
        try ids.checkIDRules("item")
        do {
            index = try IDRowIndex(ids: ids, groups: ranges)
        } catch {
            throw .inconsistentVocabulary("item id \"\(ids[error.row])\" appears twice in domain \(error.group)")
        }
        self.ids = ids
        self.domainOfItem = domainOfItem
        self.domainRanges = ranges
    }

    /// The number of items.
    public var count: Int { ids.count }

    /// The row of an item, or nil when the model does not know it.
    public func row(domain: Int, id: String) -> Int? {
        guard domain >= 0 && domain < domainRanges.count else { return nil }
        var id = id
        return id.withUTF8 { index.row(of: UnsafeRawBufferPointer($0), group: domain, rows: domainRanges[domain], in: ids) }
    }

    /// Equal when the ids and their domains are (the index follows from them).
    public static func == (a: ItemCatalog, b: ItemCatalog) -> Bool {
        a.ids == b.ids && a.domainOfItem == b.domainOfItem && a.domainRanges == b.domainRanges
    }
}

/// The users the model has learned a vector for: row `i` of the user table is `ids[i]`.
public struct UserVocabulary: Sendable, Equatable {
    public let ids: PackedIDs
    private let index: IDRowIndex

    /// Throws `.inconsistentVocabulary` when an id is empty or repeats.
    public init(ids: [String]) throws(ModelFileError) {
        try self.init(ids: PackedIDs(ids))
    }

    /// ``init(ids:)-([String])`` over packed ids.
    public init(ids: PackedIDs) throws(ModelFileError) {
        try ids.checkIDRules("user")
        do {
            index = try IDRowIndex(ids: ids, groups: [ids.indices])
        } catch {
            throw .inconsistentVocabulary("user id \"\(ids[error.row])\" appears twice")
        }
        self.ids = ids
    }

    public var count: Int { ids.count }

    /// The row of a user, or nil for a user the model has never seen.
    public func row(of id: String) -> Int? {
        var id = id
        return id.withUTF8 { index.row(of: UnsafeRawBufferPointer($0), group: 0, rows: ids.indices, in: ids) }
    }

    /// Equal when the ids are (the index follows from them).
    public static func == (a: UserVocabulary, b: UserVocabulary) -> Bool {
        a.ids == b.ids
    }
}

extension PackedIDs {
    /// Throws `.inconsistentVocabulary` naming the first empty id (`what`: "item" or "user"):
    /// the protocol refuses empty ids, so a model with one could never be asked about it.
    /// Also refuses a vocabulary larger than ``IDRowIndex`` holds.
    fileprivate func checkIDRules(_ what: String) throws(ModelFileError) {
        guard count <= IDRowIndex.maximumCount else {
            throw .inconsistentVocabulary("\(count) \(what) ids, more than the \(IDRowIndex.maximumCount) a model holds")
        }
        for row in indices where byteCount(of: row) == 0 {
            throw .inconsistentVocabulary("the \(what) id of row \(row) is empty")
        }
    }
}
