import MedleyProtocol

/// Maps MovieLens genres to Medley domains and ratings to event types, as a versioned
/// mapping file states (the built-in one is `Resources/movielens-genres-v1.tsv`, which
/// documents the rule and its reasons).
public struct GenreDomainMapping: Sendable, Equatable {
    /// The mapping file's version.
    public let version: Int
    /// The domain of an item none of whose genres is listed.
    public let defaultDomain: String
    /// Genres in priority order, each with its domain.
    public let genres: [(genre: String, domain: String)]
    /// Rating thresholds, highest first: the first whose minimum a rating reaches gives its type.
    public let ratingRules: [(minimum: Double, type: Medley_V1_EventType)]
    private let priorityByGenre: [String: Int]

    /// The mapping shipped with Medley, version 1.
    public static let movieLensV1: GenreDomainMapping = {
        do {
            return try GenreDomainMapping(text: String(decoding: PackageResources.movielens_genres_v1_tsv, as: UTF8.self),
                                          name: "movielens-genres-v1.tsv")
        } catch {
            // The file is compiled into the module and checked by the tests, so this is a build defect.
            fatalError("the built-in genre mapping is invalid: \(error)")
        }
    }()

    /// The built-in mapping file's text, for writing it out beside a converted data set.
    public static var movieLensV1Text: String {
        String(decoding: PackageResources.movielens_genres_v1_tsv, as: UTF8.self)
    }

    /// Reads a mapping file.
    public init(path: String) throws(DataFileError) {
        let reader = try LineReader(path: path)
        try self.init(reader: reader)
    }

    /// Parses a mapping held in memory; `name` stands for the path in errors.
    public init(text: String, name: String) throws(DataFileError) {
        try self.init(reader: LineReader(bytes: Array(text.utf8), name: name))
    }

    private init(reader: LineReader) throws(DataFileError) {
        var version: Int?
        var defaultDomain: String?
        var genres: [(String, String)] = []
        var priority: [String: Int] = [:]
        var rules: [(Double, Medley_V1_EventType)] = []
        func bad(_ reason: String) -> DataFileError {
            .badRow(path: reader.path, line: reader.lineNumber, reason: reason)
        }
        while let line = try reader.nextLine() {
            let text = String(decoding: line, as: UTF8.self)
            if text.isEmpty || text.hasPrefix("#") { continue }
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch (fields[0], fields.count) {
            case ("version", 2):
                guard version == nil else { throw bad("a second version line") }
                guard let value = Int(fields[1]), value > 0 else { throw bad("version \"\(fields[1])\" is not a positive integer") }
                version = value
            case ("default-domain", 2):
                guard defaultDomain == nil else { throw bad("a second default-domain line") }
                guard Self.isDomainName(fields[1]) else { throw bad("domain \"\(fields[1])\" is not [a-z][a-z0-9_]*") }
                defaultDomain = fields[1]
            case ("genre", 3):
                guard !fields[1].isEmpty else { throw bad("empty genre") }
                guard Self.isDomainName(fields[2]) else { throw bad("domain \"\(fields[2])\" is not [a-z][a-z0-9_]*") }
                guard priority.updateValue(genres.count, forKey: fields[1]) == nil else {
                    throw bad("genre \"\(fields[1])\" is listed twice")
                }
                genres.append((fields[1], fields[2]))
            case ("rating", 3):
                guard let minimum = Double(fields[1]), !minimum.isNaN else { throw bad("rating minimum \"\(fields[1])\" is not a number") }
                guard let type = Self.eventType(named: fields[2]) else { throw bad("unknown event type \"\(fields[2])\"") }
                if let previous = rules.last, previous.0 <= minimum {
                    throw bad("rating minimums must decrease (\(minimum) follows \(previous.0))")
                }
                rules.append((minimum, type))
            default:
                throw bad("expected version, default-domain, genre or rating with its values, tab-separated")
            }
        }
        guard let version else { throw .badHeader(path: reader.path, reason: "no version line") }
        guard let defaultDomain else { throw .badHeader(path: reader.path, reason: "no default-domain line") }
        guard let lowest = rules.last, lowest.0 == -.infinity else {
            throw .badHeader(path: reader.path, reason: "the last rating line must have minimum -inf, so that every rating has a type")
        }
        self.version = version
        self.defaultDomain = defaultDomain
        self.genres = genres.map { (genre: $0.0, domain: $0.1) }
        self.ratingRules = rules.map { (minimum: $0.0, type: $0.1) }
        self.priorityByGenre = priority
    }

    /// Every domain the mapping can produce, in the canonical order (see ``DomainOrder``).
    public var domains: [String] {
        DomainOrder.sorted(Set(genres.map(\.domain) + [defaultDomain]))
    }

    /// The domain of an item with these genres: that of its highest-priority listed genre,
    /// or the default domain when none is listed.
    public func domain(forGenres itemGenres: [String]) -> String {
        var best: Int?
        for genre in itemGenres {
            if let p = priorityByGenre[genre], p < (best ?? .max) { best = p }
        }
        return best.map { genres[$0].domain } ?? defaultDomain
    }

    /// Whether the mapping lists a genre.
    public func lists(genre: String) -> Bool { priorityByGenre[genre] != nil }

    /// The event type of a rating.
    public func eventType(forRating rating: Double) -> Medley_V1_EventType {
        for rule in ratingRules where rating >= rule.minimum { return rule.type }
        // NaN reaches no minimum; the readers refuse non-finite ratings before this.
        return ratingRules.last?.type ?? .view
    }

    public static func == (a: GenreDomainMapping, b: GenreDomainMapping) -> Bool {
        a.version == b.version && a.defaultDomain == b.defaultDomain
            && a.genres.elementsEqual(b.genres, by: { $0 == $1 })
            && a.ratingRules.elementsEqual(b.ratingRules, by: { $0 == $1 })
    }

    static func isDomainName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return name.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
        }
    }

    /// The wire event type for the lower-case names used in mapping files and model files.
    public static func eventType(named name: String) -> Medley_V1_EventType? {
        guard name == name.lowercased() else { return nil }
        return Medley_V1_EventType(name: name)
    }

    /// The lower-case name of an event type, as mapping files, model files and reports write it.
    public static func name(of type: Medley_V1_EventType) -> String {
        if let name = type.name { return name }
        if case .UNRECOGNIZED(let value) = type { return "unrecognized(\(value))" }
        return "unspecified"
    }
}
