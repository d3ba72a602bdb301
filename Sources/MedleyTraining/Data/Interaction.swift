/// One rating (or other interaction) of one user with one item, as read from a data set.
public struct Interaction: Sendable, Hashable {
    /// The user's identifier, as in the file.
    public var user: String
    /// The item's identifier, as in the file.
    public var item: String
    /// The rating, when the file has one.
    public var rating: Double?
    /// When it happened, in whole seconds since the Unix epoch.
    public var timestamp: Int64
    /// The position of the row in its file (0 for the first data row); it breaks
    /// timestamp ties so that orderings are stable and reproducible.
    public var order: Int

    public init(user: String, item: String, rating: Double?, timestamp: Int64, order: Int) {
        self.user = user
        self.item = item
        self.rating = rating
        self.timestamp = timestamp
        self.order = order
    }

    /// Chronological order with ties broken by file order: the one ordering every part of the
    /// training module uses, so that splits and sessions agree.
    @inlinable
    public static func chronological(_ a: Interaction, _ b: Interaction) -> Bool {
        a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.order < b.order
    }
}
