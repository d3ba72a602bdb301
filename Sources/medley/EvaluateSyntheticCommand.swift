import ArgumentParser
import Logging
import MedleyEvaluation
import MedleyTraining

struct EvaluateSyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic",
        abstract: "Evaluate on generated data with planted cross-domain taste and cold-domain users.",
        discussion: """
            Generates a data set whose users share one taste across news, video and music, \
            withholds one domain of some users before a global time cut, trains the multitask \
            model and the single-task baselines on the events before the cut and ranks every \
            later event. The cold slice is where the multitask model must beat popularity and \
            the single-task heads; the planted-taste oracle is the ceiling.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: EvaluationOptions

    @Option(help: "The generator's seed.") var dataSeed: UInt64 = 1
    @Option(help: "Users.") var users: Int = 300
    @Option(help: "Items in each domain.") var itemsPerDomain: Int = 120
    @Option(help: "Taste clusters in each domain.") var clusters: Int = 6
    @Option(help: "The share of users with one domain withheld before the cut.") var coldFraction: Double = 0.5
    @Option(help: "The weight of a session's intent against the user's lasting taste, in [0, 1].")
    var intentStrength: Float = SyntheticDataset.Configuration().intentStrength
    @Option(help: "The dimension of the planted latent space.") var latentDimension: Int = SyntheticDataset.Configuration().dimension
    @Option(help: "The share of the latest events that are test.") var testFraction: Double = 0.2

    @Option(help: "Single-task baselines to train: all (each domain head and the session head), domains, session, or none.")
    var singleTask: ModelEvaluation.Configuration.SingleTaskHeads = .all

    func validate() throws {
        guard users > 0, itemsPerDomain >= 8, clusters > 0, clusters <= itemsPerDomain else {
            throw ValidationError("--users and --clusters must be positive, --items-per-domain at least 8, with no more clusters than items")
        }
        guard (0...1).contains(coldFraction) else { throw ValidationError("--cold-fraction must be between 0 and 1") }
        guard (0...1).contains(intentStrength) else { throw ValidationError("--intent-strength must be between 0 and 1") }
        guard latentDimension >= 1 else { throw ValidationError("--latent-dimension must be positive") }
        guard testFraction > 0, testFraction < 1 else { throw ValidationError("--test-fraction must be between 0 and 1") }
    }

    func run() throws {
        global.bootstrapLogging()
        let configuration = SyntheticEvaluation.Configuration(
            data: .init(seed: dataSeed, users: users, itemsPerDomain: itemsPerDomain, clustersPerDomain: clusters,
                         dimension: latentDimension, intentStrength: intentStrength),
            testFraction: testFraction, coldUserFraction: coldFraction,
            models: ModelEvaluation.Configuration(training: try options.trainingConfiguration, singleTaskHeads: singleTask,
                                                  modelsAtOnce: options.modelsAtOnce))
        try options.output(SyntheticEvaluation.run(configuration: configuration, logger: Logger(label: "medley.eval")))
    }
}
