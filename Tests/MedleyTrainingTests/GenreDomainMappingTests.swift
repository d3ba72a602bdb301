import Foundation
import MedleyTraining
import Testing

@Suite struct GenreDomainMappingTests {
    let mapping = GenreDomainMapping.movieLensV1

    @Test func builtInMappingIsVersionOneWithThreeDomains() {
        #expect(mapping.version == 1)
        #expect(mapping.defaultDomain == "video")
        #expect(mapping.domains == ["news", "video", "music"])
        #expect(mapping.genres.count == 19)
    }

    /// The embedded copy is the file in the repository, byte for byte.
    @Test func embeddedMappingIsTheRepositoryFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/MedleyTraining/Resources/movielens-genres-v1.tsv").path
        #expect(try String(contentsOfFile: path, encoding: .utf8) == GenreDomainMapping.movieLensV1Text)
        #expect(try GenreDomainMapping(path: path) == mapping)
    }

    @Test(arguments: [
        (["Documentary"], "news"),
        (["Drama", "War"], "news"),
        (["Crime", "Film-Noir", "Thriller"], "news"),
        (["Animation", "Children's", "Comedy"], "music"),
        (["Musical", "Romance"], "music"),
        (["Crime", "Musical"], "music"),           // Musical comes before Crime in priority
        (["Comedy", "Drama"], "video"),
        (["Action", "Adventure", "Thriller"], "video"),
        ([], "video"),
        (["Telenovela"], "video"),                 // unlisted: the default domain
        (["Telenovela", "Documentary"], "news"),
    ])
    func genresMapToDomainsByPriority(genres: [String], domain: String) {
        #expect(mapping.domain(forGenres: genres) == domain)
    }

    @Test func ratingsMapToEventTypes() {
        #expect(mapping.eventType(forRating: 5) == .like)
        #expect(mapping.eventType(forRating: 4.5) == .like)
        #expect(mapping.eventType(forRating: 4) == .complete)
        #expect(mapping.eventType(forRating: 3) == .play)
        #expect(mapping.eventType(forRating: 2) == .skip)
        #expect(mapping.eventType(forRating: 1) == .dislike)
        #expect(mapping.eventType(forRating: 0.5) == .dislike)
    }

    @Test(arguments: [
        "version\t1\ndefault-domain\tvideo\ngenre\tA\tnews\ngenre\tA\tmusic\nrating\t-inf\tplay\n",
        "version\t1\ndefault-domain\tvideo\nrating\t2\tplay\nrating\t3\tlike\nrating\t-inf\tskip\n",
        "version\t1\ndefault-domain\tvideo\nrating\t3\tplay\n",
        "version\t1\ndefault-domain\tVideo\nrating\t-inf\tplay\n",
        "version\t1\ndefault-domain\tvideo\nrating\t-inf\tlove\n",
        "default-domain\tvideo\nrating\t-inf\tplay\n",
        "version\t1\ndefault-domain\tvideo\ngenre\tA\n",
    ])
    func malformedMappingsAreRefused(text: String) {
        #expect(throws: DataFileError.self) { try GenreDomainMapping(text: text, name: "m.tsv") }
    }

    @Test func errorsNameTheLine() {
        let error = #expect(throws: DataFileError.self) {
            try GenreDomainMapping(text: "# c\nversion\t1\ngenre\tA\tNews\n", name: "m.tsv")
        }
        #expect(error?.description == "m.tsv:3: domain \"News\" is not [a-z][a-z0-9_]*")
    }
}
