import ArgumentParser
import Foundation
import Logging
import MedleyEvaluation
import MedleyEventLog
import MedleyProtocol
import MedleyTraining

struct EvaluateChronologicalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chronological",
        abstract: "The service-style evaluation on a chronological split of MovieLens or an event log.",
        discussion: """
            Each user's last events (or every event after one time) are test targets, each \
            predicted from everything before it. Full ranking: the session head over all items, \
            each domain head over its domain's items, and the slice of targets whose user is \
            cold in the target's domain but warm elsewhere. Popularity, sequential rules, \
            V-SKNN and single-task models (each head trained alone) are fitted on the same \
            training part as the multitask model.
            """
    )

    /// Where the split's cut falls.
    enum Cut: String, ExpressibleByArgument, CaseIterable {
        case perUser = "per-user"
        case global
    }

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: EvaluationOptions

    @Option(help: "A MovieLens data set folder, e.g. data/ml-1m.")
    var data: String?

    @Option(help: "An event-log directory (as medley serve, import or gen write it).")
    var log: String?

    @Option(help: "Evaluate this model file instead of training one (no single-task baselines then).")
    var model: String?

    @Option(help: "per-user: each user's last share of events is test; global: the last share of all events in time.")
    var cut: Cut = .perUser

    @Option(help: "The share of events that are test.")
    var testFraction: Double = 0.2

    @Option(help: "At most this many test targets per user (the earliest), to bound the run time.")
    var maxTargetsPerUser: Int?

    @Option(help: "Single-task baselines to train: all (each domain head and the session head), domains, session, or none.")
    var singleTask: ModelEvaluation.Configuration.SingleTaskHeads = .all

    @Option(name: .customLong("compare"),
            help: "Also train a multitask model ARCHITECTURE/WEIGHTING on the same split, e.g. ple:2:1:1/mgda; repeatable.")
    var comparisons: [String] = []

    @Option(help: "Apply the cold-in-domain protocol with this many target events per domain (0: off).")
    var coldTargetsPerDomain: Int = 0

    @Option(help: "With --cold-targets-per-domain: the seed that draws the cold users.")
    var coldSeed: UInt64 = 1

    func validate() throws {
        guard (data == nil) != (log == nil) else { throw ValidationError("give exactly one of --data and --log") }
        if let path = data ?? log, !FileManager.default.fileExists(atPath: path) {
            throw ValidationError(data != nil ? "no data set at \(path); run scripts/fetch-movielens.sh" : "no event log at \(path)")
        }
        if let model, !FileManager.default.fileExists(atPath: model) { throw ValidationError("no model file at \(model)") }
        guard testFraction > 0, testFraction < 1 else { throw ValidationError("--test-fraction must be between 0 and 1") }
        if let cap = maxTargetsPerUser, cap < 1 { throw ValidationError("--max-targets-per-user must be at least 1") }
        guard coldTargetsPerDomain >= 0 else { throw ValidationError("--cold-targets-per-domain must not be negative") }
        if model != nil, coldTargetsPerDomain > 0 {
            throw ValidationError("--cold-targets-per-domain removes events from training; it cannot go with a --model trained on them")
        }
        if model != nil, !comparisons.isEmpty { throw ValidationError("--compare trains models; it cannot go with --model") }
        _ = try variants()
    }

    /// The --compare values.
    func variants() throws -> [ModelEvaluation.Configuration.Variant] {
        try comparisons.map { text in
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--compare takes ARCHITECTURE/WEIGHTING, e.g. mlp/mgda, not \"\(text)\"") }
            return ModelEvaluation.Configuration.Variant(architecture: try MultitaskOptionParsing.architecture(String(parts[0])),
                                                         taskWeighting: try MultitaskOptionParsing.taskWeighting(String(parts[1])))
        }
    }

    func run() throws {
        global.bootstrapLogging()
        let logger = Logger(label: "medley.eval")
        let source: ModelEvaluation.Source = try model.map { .given(try loadServingModel($0)) }
            ?? .train(ModelEvaluation.Configuration(training: try options.trainingConfiguration, singleTaskHeads: singleTask,
                                                    variants: try variants(), modelsAtOnce: options.modelsAtOnce))
        let splitCut: ChronologicalCut = cut == .perUser ? .perUser(testFraction: testFraction) : .global(testFraction: testFraction)
        let configuration = ChronologicalEvaluation.Configuration(maxTargetsPerUser: maxTargetsPerUser)
        let coldProtocol = coldTargetsPerDomain > 0
            ? ColdDomainProtocol.Configuration(targetsPerDomain: coldTargetsPerDomain, seed: coldSeed) : nil
        let report: EvaluationReport
        if let data {
            let location = movieLensLocation(data)
            report = try ChronologicalEvaluation.run(dataDirectory: location.directory, datasetName: location.name, cut: splitCut,
                                                     configuration: configuration, models: source, coldProtocol: coldProtocol,
                                                     logger: logger)
        } else if let log {
            report = try EvaluationReport.timed {
                logger.info("reading the event log", metadata: ["directory": "\(log)"])
                let reader = EventLogReader(directory: log)
                var events: [Medley_V1_SessionEvent] = []
                while let entry = try reader.next() { events.append(entry.record.event) }
                var split = ChronologicalSplit(dataset: SequenceDataset(events: events), cut: splitCut)
                if let coldProtocol { split = ColdDomainProtocol.apply(to: split, configuration: coldProtocol) }
                let logReport = try ChronologicalEvaluation.evaluate(split: split, configuration: configuration, models: source,
                                                                     title: "chronological split, event log", logger: logger)
                return (logReport, "event log \(log) (\(events.count) events)")
            }
        } else {
            preconditionFailure("validate() requires --data or --log")
        }
        try options.output(report)
    }
}
