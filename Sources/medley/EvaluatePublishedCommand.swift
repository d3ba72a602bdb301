import ArgumentParser
import Foundation
import Logging
import MedleyEvaluation
import MedleyTraining

struct EvaluatePublishedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "published",
        abstract: "RecBole's published protocol for sequential recommendation on MovieLens.",
        discussion: """
            Ratings >= 3; users and items with at least 10 interactions, repeated until stable; \
            leave-one-out by timestamp; the last 50 items as input; full ranking; HR@10 and \
            NDCG@10 over users, with all items ranked (RecBole's way) and with seen items \
            excluded (the service's). The model's session head is trained on each user's \
            training and validation interactions (the validation one held out for early \
            stopping) and evaluated next to popularity, sequential rules and V-SKNN. By default \
            the model has d = 64, the session attention and trains the session head's loss alone \
            (--tasks all trains every head); docs/results-ml1m.md and docs/results-ml100k.md \
            give the figures of the defaults.
            """
    )

    /// The embedding dimension of the published sequential models (SASRec, GRU4Rec in
    /// RecBole); on MovieLens-1M it is worth +0.005 HR@10 and +0.01 with seen items excluded
    /// over 32 (docs/results-ml1m.md).
    static let defaultDimension = 64
    /// The encoder width of the published-protocol figures (docs/results-ml1m.md,
    /// docs/results-ml100k.md); the wider default of the other commands was chosen for models
    /// that train every head, and was not measured under this protocol.
    static let defaultHidden = 64

    @OptionGroup var global: GlobalOptions
    @OptionGroup var options: EvaluationOptions

    @Option(help: "The data set folder, e.g. data/ml-1m (holding ml-1m.inter and ml-1m.item).")
    var data: String

    @Option(help: "Evaluate this model file instead of training one.")
    var model: String?

    func validate() throws {
        guard FileManager.default.fileExists(atPath: data) else {
            throw ValidationError("no data set at \(data); run scripts/fetch-movielens.sh")
        }
        if let model, !FileManager.default.fileExists(atPath: model) { throw ValidationError("no model file at \(model)") }
    }

    func run() throws {
        global.bootstrapLogging()
        let source: ModelEvaluation.Source = try model.map { .given(try loadServingModel($0)) }
            ?? .train(ModelEvaluation.Configuration(
                training: try options.trainingConfiguration(defaultTasks: .session, defaultDimension: Self.defaultDimension,
                                                           defaultHidden: Self.defaultHidden),
                singleTaskHeads: .none, modelsAtOnce: options.modelsAtOnce))
        let location = movieLensLocation(data)
        let report = try PublishedProtocolEvaluation.run(
            dataDirectory: location.directory, datasetName: location.name, models: source,
            logger: Logger(label: "medley.eval"))
        try options.output(report)
    }
}
