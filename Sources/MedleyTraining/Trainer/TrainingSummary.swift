import Foundation
import MedleyModel

/// How a training run went, with a readable rendering (``description``).
public struct TrainingSummary: Sendable {
    /// Why the run ended.
    public enum StopReason: Sendable, Equatable {
        /// Every configured epoch ran.
        case completedEpochs
        /// The stopping metric did not improve for `patience` epochs.
        case earlyStopping(patience: Int)
    }

    public var modelVersion: UInt64
    public var domains: [String]
    public var statistics: TrainingData.Statistics
    public var itemCount: Int
    public var userCount: Int
    public var parameterCount: Int
    /// Whether the domain heads and the session head used sampled softmax.
    public var sampledDomainHeads: [Bool]
    public var sampledSessionHead: Bool
    public var epochs: [EpochReport]
    /// The epoch whose parameters were kept (the best by the stopping metric; the last
    /// without validation).
    public var keptEpoch: Int
    public var stopReason: StopReason
    /// Wall time of the whole run, and training examples per second over all epochs
    /// (validation excluded).
    public var seconds: Double
    public var examplesPerSecond: Double
    /// The training examples each epoch went through: those carrying a trained head's loss
    /// (all of them unless a single-task domain head is trained, ``LossBearingExamples``).
    public var examplesPerEpoch: Int
    public var threads: Int
    /// The sequential rules' fit on the validation examples; nil when none were trained.
    public var sequentialRules: RulesFit? = nil
    /// The domain lists' session share fit on the validation examples; nil when none was fitted.
    public var domainListShare: DomainListShareChoice? = nil

    package func taskName(_ task: Task) -> String { ParameterLayout.taskName(task, domains: domains) }

    /// The tasks in the model's order.
    package var orderedTasks: [Task] { domains.indices.map { Task.domain($0) } + [.session, .nextDomain] }
}

/// How the sequential rules' depth, weight and repeat bias were chosen (``SequentialRulesBlend``).
public struct RulesFit: Sendable, Equatable {
    /// The choice kept (weight and repeat bias 0: the model is written without the blend).
    public var chosen: RulesChoice
    public var rules: Int
    /// Session-head NDCG@cutoff on the validation examples for each choice tried.
    public var ndcg: [RulesChoice: Double]
    public var cutoff: Int

    /// The weight kept.
    public var weight: Float { chosen.weight }
    /// The NDCG of each weight tried at the kept depth and repeat bias.
    public var ndcgByWeight: [Float: Double] {
        Dictionary(uniqueKeysWithValues: ndcg.filter { $0.key.depth == chosen.depth && $0.key.repeatBias == chosen.repeatBias }
            .map { ($0.key.weight, $0.value) })
    }
    /// The NDCG of each repeat bias tried at the kept depth and weight.
    public var ndcgByRepeatBias: [Float: Double] {
        Dictionary(uniqueKeysWithValues: ndcg.filter { $0.key.depth == chosen.depth && $0.key.weight == chosen.weight }
            .map { ($0.key.repeatBias, $0.value) })
    }
}

/// Four decimals, for the summary's tables.
private func fixed(_ value: Double) -> String { String(format: "%.4f", value) }

extension TrainingSummary: CustomStringConvertible {
    /// A few lines for a person: the data, the speed, each epoch's losses and validation
    /// figures per head (so a gain on one head that costs another shows), and the kept epoch.
    public var description: String {
        var lines: [String] = []
        let s = statistics
        lines.append("model \(modelVersion): \(itemCount) items, \(userCount) users, \(parameterCount) parameters")
        lines.append("data: \(s.eventsRead) events (\(s.dropped.total) dropped), \(s.sessions) sessions, "
            + "\(s.trainingExamples) training and \(s.validationExamples) validation examples")
        let sampled = zip(domains, sampledDomainHeads).filter(\.1).map(\.0) + (sampledSessionHead ? ["session"] : [])
        lines.append("softmax: " + (sampled.isEmpty ? "full for every head" : "sampled for \(sampled.joined(separator: ", ")), full for the rest"))
        lines.append(String(format: "time: %.1f s, %.0f examples/s on %d threads", seconds, examplesPerSecond, threads)
            + (examplesPerEpoch == s.trainingExamples ? "" : ", \(examplesPerEpoch) examples an epoch (those with the trained head's loss)"))
        for report in epochs {
            let tasks = orderedTasks.filter { report.trainingLosses[$0] != nil }
            var line = "epoch \(report.epoch)" + (report.isBest ? "*" : "") + ":"
            line += tasks.map { " \(taskName($0)) " + fixed(report.trainingLosses[$0]!) }.joined(separator: ",")
            line += String(format: " (lr %g, %.0f ex/s)", report.learningRate, report.examplesPerSecond)
            lines.append(line)
            if let validation = report.validation {
                let parts = orderedTasks.compactMap { task -> String? in
                    guard let m = validation.tasks[task] else { return nil }
                    if task == .nextDomain {
                        return "\(taskName(task)) loss \(fixed(m.loss)) acc \(fixed(m.hitRate))"
                    }
                    return "\(taskName(task)) loss \(fixed(m.loss)) HR@\(validation.cutoff) \(fixed(m.hitRate))"
                        + " NDCG@\(validation.cutoff) \(fixed(m.ndcg))"
                }
                lines.append("  validation: " + parts.joined(separator: "; "))
            }
            // Learned or per-batch weights (uncertainty, GradNorm, MGDA); equal weights are not repeated.
            if report.taskWeights.values.contains(where: { $0 != 1 }) {
                lines.append("  task weights: " + orderedTasks.compactMap { task in
                    report.taskWeights[task].map { "\(taskName(task)) " + fixed(Double($0)) }
                }.joined(separator: ", "))
            }
            if !report.logVariances.isEmpty {
                lines.append("  log-variances: " + orderedTasks.compactMap { task in
                    report.logVariances[task].map { "\(taskName(task)) " + fixed(Double($0)) }
                }.joined(separator: ", "))
            }
        }
        if let fit = sequentialRules {
            lines.append("sequential rules: \(fit.rules) rules, \(fit.chosen) kept; session NDCG@\(fit.cutoff) by depth and weight "
                + "at repeat bias \(fit.chosen.repeatBias):")
            for depth in Set(fit.ndcg.keys.map(\.depth)).sorted() {
                let choices = fit.ndcg.keys.filter { $0.depth == depth && $0.repeatBias == fit.chosen.repeatBias }.sorted()
                lines.append("  depth \(depth): " + choices.map { "\($0.weight) \(fixed(fit.ndcg[$0]!))" }.joined(separator: ", "))
            }
            lines.append("  by repeat bias at depth \(fit.chosen.depth), weight \(fit.chosen.weight): "
                + fit.ndcgByRepeatBias.sorted { $0.key < $1.key }.map { "\($0.key) \(fixed($0.value))" }.joined(separator: ", "))
        }
        if let fit = domainListShare {
            lines.append("domain lists: session share \(fit.share) kept; domain-list NDCG@\(fit.cutoff) by share: "
                + fit.ndcg.sorted { $0.key < $1.key }.map { "\($0.key) \(fixed($0.value))" }.joined(separator: ", "))
        }
        switch stopReason {
        case .completedEpochs: lines.append("stopped: all \(epochs.count) epochs ran; kept epoch \(keptEpoch)")
        case .earlyStopping(let patience):
            lines.append("stopped: early, no improvement for \(patience) epochs; kept epoch \(keptEpoch)")
        }
        return lines.joined(separator: "\n")
    }
}

/// A trained model and how it was trained.
public struct TrainingResult: Sendable {
    public var model: ModelFileContents
    public var summary: TrainingSummary

    /// Writes the model atomically (temporary file, fsync, rename, directory fsync): readers
    /// see the previous file or the new one, never a partial one.
    public func write(to url: URL) throws(ModelFileError) {
        try ModelFile.write(model, to: url)
    }
}
