/// Finds the row of an id in ``PackedIDs`` by its bytes: an open-addressing hash table of rows
/// (linear probing, at most half full), built once per vocabulary.
///
/// Rows are grouped (an item catalogue's domains: the same id may appear once in each), and a
/// key is (group, id bytes). A `Dictionary<OpaqueID, Int>` held an allocated key per id, three
/// million of them for a 3 × 1M catalogue; this holds one `UInt32` per slot, and a lookup hashes
/// the caller's bytes without copying them. Hashing is `Hasher`'s, seeded per process, so ids
/// chosen by a client cannot be made to collide.
struct IDRowIndex: Sendable {
    /// Row + 1 of the id hashed to each slot; 0 marks an empty slot.
    private let slots: [UInt32]
    private let mask: Int

    /// A (group, id) that appears twice: its second row.
    struct Duplicate: Error {
        var row: Int
        var group: Int
    }

    /// The largest vocabulary a table of `UInt32` rows holds.
    static let maximumCount = Int(UInt32.max) - 1

    /// Indexes every row of every group; `groups` are disjoint ranges of `ids`' rows.
    /// - Precondition: `ids.count` ≤ ``maximumCount``.
    init(ids: PackedIDs, groups: [Range<Int>]) throws(Duplicate) {
        precondition(ids.count <= Self.maximumCount, "vocabulary too large for the row index")
        var capacity = 2
        while capacity < 2 * ids.count { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [UInt32](repeating: 0, count: capacity)
        for (group, rows) in groups.enumerated() {
            for row in rows {
                var slot = ids.withBytes(of: row) { Self.hash($0, group: group) } & mask
                while slots[slot] != 0 {
                    let other = Int(slots[slot]) - 1
                    if rows.contains(other), ids.withBytes(of: row, { ids.hasBytes(other, equalTo: $0) }) {
                        throw Duplicate(row: row, group: group)
                    }
                    slot = (slot + 1) & mask
                }
                slots[slot] = UInt32(row + 1)
            }
        }
        self.slots = slots
        self.mask = mask
    }

    /// The row of `bytes` in `group`, or nil.
    func row(of bytes: UnsafeRawBufferPointer, group: Int, rows: Range<Int>, in ids: PackedIDs) -> Int? {
        var slot = Self.hash(bytes, group: group) & mask
        while slots[slot] != 0 {
            let row = Int(slots[slot]) - 1
            if rows.contains(row) && ids.hasBytes(row, equalTo: bytes) { return row }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer, group: Int) -> Int {
        var hasher = Hasher()
        hasher.combine(group)
        hasher.combine(bytes.count)
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }
}
