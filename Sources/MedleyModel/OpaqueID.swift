/// An identifier (user, item, session) as the protocol defines it: its UTF-8 bytes, compared
/// byte for byte.
///
/// Swift's `String` equality is Unicode canonical equivalence: "\u{E9}" equals "e\u{301}",
/// and the Kelvin sign equals "K". Ids are opaque, so a dictionary keyed by `String` would
/// merge two users whose ids differ in bytes; every lookup by id goes through this key instead.
public struct OpaqueID: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(_ id: String) {
        bytes = Array(id.utf8)
    }

    /// The bytes hashed as one block: the synthesised hash fed them to the hasher one at a time,
    /// a tenth of a worker's time under heavy ingest (every event looks its user up).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension String {
    /// Whether two ids are the same id: byte equality, not canonical equivalence.
    public func isSameID(as other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}
