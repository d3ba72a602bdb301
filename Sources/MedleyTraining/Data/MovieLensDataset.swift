/// A MovieLens data set in RecBole's atomic-file format, as `scripts/fetch-movielens.sh`
/// unpacks it: `<directory>/<name>.inter` and `<directory>/<name>.item`.
public struct MovieLensDataset: Sendable {
    /// The data set's name (`ml-1m`, `ml-100k`).
    public var name: String
    /// Every row of the interaction file, in file order.
    public var interactions: [Interaction]
    /// The genres of each item, in the order the item file lists them.
    public var itemGenres: [String: [String]]

    public init(name: String, interactions: [Interaction], itemGenres: [String: [String]]) {
        self.name = name
        self.interactions = interactions
        self.itemGenres = itemGenres
    }

    /// Reads `<directory>/<name>.inter` and `<directory>/<name>.item`; `name` defaults to the
    /// directory's last path component.
    public static func load(directory: String, name: String? = nil) throws(DataFileError) -> MovieLensDataset {
        let trimmed = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let name = name ?? String(trimmed.split(separator: "/").last ?? Substring(trimmed))
        let interactions = try AtomicFiles.readInteractions(path: "\(trimmed)/\(name).inter")
        let genres = try AtomicFiles.readItemGenres(path: "\(trimmed)/\(name).item")
        return MovieLensDataset(name: name, interactions: interactions, itemGenres: genres)
    }

    /// The domain of every item that appears in the interactions or the item file.
    public func itemDomains(mapping: GenreDomainMapping) -> [String: String] {
        var domains: [String: String] = [:]
        for (item, genres) in itemGenres {
            domains[item] = mapping.domain(forGenres: genres)
        }
        for interaction in interactions where domains[interaction.item] == nil {
            domains[interaction.item] = mapping.defaultDomain
        }
        return domains
    }
}
