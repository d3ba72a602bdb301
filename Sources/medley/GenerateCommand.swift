import ArgumentParser
import Foundation
import MedleyEvaluation
import MedleyTraining
import MedleyEventLog

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate a synthetic data set with planted structure.",
        discussion: """
            Users whose taste is shared across the news, video and music domains, and sessions \
            with a short-term intent, drawn from one seeded generator and written as event-log \
            segments. The same options and seed always give the same events.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The event-log directory to write; it must be new or empty.")
    var out: String

    @Option(help: "The generator's seed.") var seed: UInt64 = 1
    @Option(help: "Users.") var users: Int = 300
    @Option(help: "Items in each domain.") var itemsPerDomain: Int = 120
    @Option(help: "Taste clusters in each domain.") var clusters: Int = 6

    func validate() throws {
        guard users > 0, itemsPerDomain > 0, clusters > 0, clusters <= itemsPerDomain else {
            throw ValidationError("--users, --items-per-domain and --clusters must be positive, with no more clusters than items")
        }
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: out), !contents.isEmpty {
            throw ValidationError("\(out) is not empty; generate into a new directory")
        }
    }

    func run() throws {
        global.bootstrapLogging()
        let dataset = SyntheticDataset(configuration: .init(seed: seed, users: users, itemsPerDomain: itemsPerDomain, clustersPerDomain: clusters))
        let last = try EventLogExport.write(dataset.events, to: out)
        print("generated \(dataset.events.count) events of \(users) users over \(itemsPerDomain * 3) items into \(out) (sequences 1...\(last)), seed \(seed)")
    }
}
