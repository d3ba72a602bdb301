import Foundation
import Logging
import MedleyModel
import MedleyTraining

extension PublishedProtocolEvaluation {
    /// The name of the multitask model's session head in published-protocol reports.
    public static let multitaskSessionHead = ModelEvaluation.multitaskSessionHead

    /// The baselines and the multitask model's session head in one run on one leave-one-out
    /// split. The session head ranks every item, as the protocol asks; domain heads rank
    /// within a domain only and are not part of this mode.
    ///
    /// The model is trained on each user's training and validation interactions with the
    /// validation split forced to the last event per user: the trainer then holds out exactly
    /// the protocol's validation interaction, for early stopping, and never sees the test
    /// interaction. (The baselines are fitted on the training part only.) Single-task
    /// baselines are not trained in this mode.
    public static func evaluate(split: LeaveOneOutSplit, configuration: Configuration = Configuration(),
                                models source: ModelEvaluation.Source, title: String,
                                logger: Logger = Logger(label: "medley.training.eval")) throws(TrainingError) -> EvaluationReport {
        var report = evaluate(split: split, configuration: configuration, title: title, logger: logger)
        let models: ModelEvaluation.Models
        var trainingConfiguration: TrainingConfiguration?
        switch source {
        case .train(var c):
            c.training.validation = .lastEventsPerUser(1)
            c.singleTaskHeads = .none
            let lengths = split.dataset.sequences.map { max(0, $0.count - 1) }
            models = try ModelEvaluation.train(dataset: split.dataset, trainingLength: lengths, configuration: c, logger: logger)
            trainingConfiguration = c.training
            report.conditions["model trained on"] = "training and validation interactions; the validation interaction held out for early stopping"
        case .given(let model, let rules):
            models = ModelEvaluation.Models(multitask: model, multitaskSummary: nil, singleTask: [:], rules: rules, trainingSeconds: 0)
        }
        let scorer = ModelScorer(name: multitaskSessionHead, model: models.multitask, head: .session,
                                 dataset: split.dataset, rules: models.rules)
        logger.info("evaluating \(scorer.name)")
        report.rows += ModelEvaluation.withOneBLASThread {
            evaluate(scorer, split: split, configuration: configuration, fitSeconds: models.trainingSeconds)
        }
        // The same model's session head with part of its blend taken away, to show what that part is worth.
        func evaluateAblation(_ contents: ModelFileContents, without part: String) {
            let ablation = ModelScorer(name: multitaskSessionHead + ", without " + part, model: ModelEvaluation.withContents(contents),
                                       head: .session, dataset: split.dataset, rules: models.rules)
            logger.info("evaluating \(ablation.name)")
            report.rows += ModelEvaluation.withOneBLASThread {
                evaluate(ablation, split: split, configuration: configuration, fitSeconds: models.trainingSeconds)
            }
        }
        if let rules = models.multitask.contents.sequentialRules {
            var plain = models.multitask.contents
            plain.sequentialRules = nil
            evaluateAblation(plain, without: "rules")
            if rules.repeatBias != 0 {
                var noRepeat = models.multitask.contents
                noRepeat.sequentialRules?.repeatBias = 0
                evaluateAblation(noRepeat, without: "the repeat bias")
            }
            report.conditions["sequential rules"] = "\(rules.ruleCount) rules, from the user's newest \(rules.depth) item\(rules.depth == 1 ? "" : "s"), weight \(rules.weight), repeat bias \(rules.repeatBias) (all three fitted on the validation interactions)"
        }
        report.conditions.merge(ModelEvaluation.conditions(models, configuration: trainingConfiguration)) { $1 }
        return report
    }

    /// Reads and prepares a MovieLens data set as ``run(dataDirectory:datasetName:configuration:additionalScorers:logger:)``
    /// does, and evaluates the baselines and the model: the entry point of `medley eval published`.
    public static func run(dataDirectory: String, datasetName: String = "ml-1m",
                           configuration: Configuration = Configuration(), models: ModelEvaluation.Source,
                           logger: Logger = Logger(label: "medley.training.eval")) throws(EvaluationError) -> EvaluationReport {
        try EvaluationReport.timed { () throws(EvaluationError) in
            let data: (split: LeaveOneOutSplit, description: String)
            do throws(DataFileError) {
                data = try load(dataDirectory: dataDirectory, datasetName: datasetName, logger: logger)
            } catch {
                throw .data(error)
            }
            do throws(TrainingError) {
                return (try evaluate(split: data.split, configuration: configuration, models: models,
                                     title: "published protocol, \(datasetName)", logger: logger), data.description)
            } catch {
                throw .training(error)
            }
        }
    }
}
