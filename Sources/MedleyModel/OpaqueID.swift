/// An identifier (user, item, session) as the protocol defines it: its UTF-8 bytes, compared
/// byte for byte.
///
/// Swift's `String` equality is Unicode canonical equivalence: "\u{E9}" equals "e\u{301}",
/// and the Kelvin sign equals "K". Ids are opaque, so a dictionary keyed by `String` would
/// merge two users whose ids differ in bytes; every lookup by id goes through this key instead.
public struct OpaqueID: Hashable, Sendable {
    /// The id. Kept as the string rather than a copy of its bytes: an id of up to 15 bytes
    /// lives inside the key, so making a key allocates nothing and comparing keys in a
    /// dictionary reads no other memory (every ingested event looks its user up).
    public let id: String

    public init(_ id: String) {
        self.id = id
    }

    /// The id's UTF-8 bytes.
    public var bytes: [UInt8] { Array(id.utf8) }

    // Inlinable here and below: called across modules for every ingested event, where an
    // unspecialised generic `withUTF8Bytes` costs more in metadata lookups and reference
    // counting than the bytes' work.
    @inlinable
    public static func == (a: OpaqueID, b: OpaqueID) -> Bool {
        a.id.isSameID(as: b.id)
    }

    /// The bytes hashed as one block: the synthesised hash fed them to the hasher one at a time,
    /// a tenth of a worker's time under heavy ingest.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        id.withUTF8Bytes { bytes in
            hasher.combine(bytes.count)
            hasher.combine(bytes: bytes)
        }
    }
}

extension String {
    /// Whether two ids are the same id: byte equality, not canonical equivalence.
    @inlinable
    public func isSameID(as other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        return withUTF8Bytes { a in other.withUTF8Bytes { b in a.elementsEqual(b) } }
    }

    /// Calls `body` with the string's UTF-8 bytes in contiguous memory (a copy only for a
    /// string that is not stored as UTF-8, such as a bridged one).
    @inlinable
    public func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) { return result }
        var copy = self
        copy.makeContiguousUTF8()
        return try copy.utf8.withContiguousStorageIfAvailable { try body(UnsafeRawBufferPointer($0)) }!
    }
}
