import ArgumentParser
import MedleyTraining

/// `--early-stopping-metric`, shared by `medley train` and `medley eval`: what the validation
/// examples are watched for, both to stop and to decay the learning rate on plateaus.
struct EarlyStoppingMetricOption: ParsableArguments {
    @Option(help: "What early stopping (and the learning-rate decay) watches on the validation examples: hit-rate (the session head's HR@10) or loss (the trained heads' summed cross-entropy, a smoother signal on small validation sets).")
    var earlyStoppingMetric: String = "hit-rate"

    func validate() throws {
        _ = try metric
    }

    /// The trainer's metric for the option.
    var metric: EarlyStopping.Metric {
        get throws {
            switch earlyStoppingMetric {
            case "hit-rate": return EarlyStopping().metric
            case "loss": return .validationLoss
            default: throw ValidationError("--early-stopping-metric is hit-rate or loss, not \(earlyStoppingMetric)")
            }
        }
    }
}
