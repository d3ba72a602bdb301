import Foundation
import Logging
import MedleyModel
import MedleyTraining

extension ChronologicalEvaluation {
    /// The baselines and the models in one run on one split: the baselines are fitted on the
    /// split's training part (``evaluate(split:configuration:additionalScorers:title:logger:)``),
    /// the multitask model and the single-task baselines are trained on the same interactions
    /// (or a given model is used), and every one is ranked on the same targets.
    ///
    /// Rows of the domain-head scorers leave out the "all domains" segment: their domains are
    /// scored by different heads, whose scores are not comparable across domains. A model's
    /// `seconds` include the training of every model of the run.
    public static func evaluate(split: ChronologicalSplit, configuration: Configuration = Configuration(),
                                models source: ModelEvaluation.Source, title: String,
                                logger: Logger = Logger(label: "medley.training.eval")) throws(TrainingError) -> EvaluationReport {
        var report = evaluate(split: split, configuration: configuration, title: title, logger: logger)
        let models: ModelEvaluation.Models
        var trainingConfiguration: TrainingConfiguration?
        switch source {
        case .train(let c):
            models = try ModelEvaluation.train(dataset: split.dataset, trainingLength: split.trainingLength, configuration: c, logger: logger)
            trainingConfiguration = c.training
        case .given(let model, let rules):
            models = ModelEvaluation.Models(multitask: model, multitaskSummary: nil, singleTask: [:], rules: rules, trainingSeconds: 0)
        }
        ModelEvaluation.withOneBLASThread {
            for evaluated in ModelEvaluation.scorers(models, dataset: split.dataset) {
                logger.info("evaluating \(evaluated.scorer.name)")
                var rows = evaluate(evaluated.scorer, split: split, configuration: configuration, fitSeconds: evaluated.fitSeconds)
                if !evaluated.ranksAcrossDomains { rows.removeAll { $0.segment == allDomainsSegment } }
                report.rows += rows
            }
        }
        report.conditions.merge(ModelEvaluation.conditions(models, configuration: trainingConfiguration)) { $1 }
        report.conditions["models trained on"] = "the split's training part, as the baselines"
        #if DEBUG
        report.conditions["build"] = "debug"
        #else
        report.conditions["build"] = "release"
        #endif
        return report
    }

    /// Reads a MovieLens data set as ``run(dataDirectory:datasetName:cut:configuration:additionalScorers:logger:)``
    /// does, and evaluates the baselines and the models on its chronological split: the entry
    /// point of `medley eval chronological --data`. With `coldProtocol`, the split is reduced
    /// by ``ColdDomainProtocol`` first, for every model and baseline alike.
    public static func run(dataDirectory: String, datasetName: String = "ml-1m",
                           cut: ChronologicalCut = .perUser(testFraction: 0.2),
                           configuration: Configuration = Configuration(), models: ModelEvaluation.Source,
                           coldProtocol: ColdDomainProtocol.Configuration? = nil,
                           logger: Logger = Logger(label: "medley.training.eval")) throws(EvaluationError) -> EvaluationReport {
        try EvaluationReport.timed { () throws(EvaluationError) in
            let data: (dataset: SequenceDataset, description: String)
            do throws(DataFileError) {
                data = try load(dataDirectory: dataDirectory, datasetName: datasetName, logger: logger)
            } catch {
                throw .data(error)
            }
            var split = ChronologicalSplit(dataset: data.dataset, cut: cut)
            if let coldProtocol { split = ColdDomainProtocol.apply(to: split, configuration: coldProtocol) }
            do throws(TrainingError) {
                return (try evaluate(split: split, configuration: configuration, models: models,
                                     title: "chronological split, \(datasetName)", logger: logger), data.description)
            } catch {
                throw .training(error)
            }
        }
    }
}
