import MedleyModel

/// What the trainer reports while it runs, in order: `started`, then per epoch some `batches`
/// and one `epochFinished`.
public enum TrainingProgress: Sendable {
    /// Before the first batch: the data and the model's size.
    case started(TrainingData.Statistics, parameterCount: Int)
    /// Every ``TrainingConfiguration/progressIntervalSeconds`` within an epoch.
    case batches(BatchProgress)
    /// After each epoch's validation.
    case epochFinished(EpochReport)
}

/// Progress within an epoch.
public struct BatchProgress: Sendable {
    /// 1-based epoch, and batches done of the epoch's batches.
    public var epoch: Int
    public var batch: Int
    public var batches: Int
    /// Training examples per second since the previous report.
    public var examplesPerSecond: Double
    /// Each trained task's mean loss over the batches since the previous report.
    public var taskLosses: [Task: Double]
    /// The task weights λ_m now (they move under uncertainty weighting).
    public var taskWeights: [Task: Float]
}

/// One epoch's figures.
public struct EpochReport: Sendable {
    /// 1-based.
    public var epoch: Int
    /// Each trained task's mean training loss over the epoch.
    public var trainingLosses: [Task: Double]
    /// The task weights λ_m at the end of the epoch.
    public var taskWeights: [Task: Float]
    /// Uncertainty weighting's learned log-variances s_m; empty for other weightings.
    public var logVariances: [Task: Float]
    /// The validation figures, or nil without validation examples.
    public var validation: ValidationMetrics?
    /// The early-stopping metric's value, when there is validation.
    public var stoppingMetric: Double?
    /// Whether this epoch is the best so far by the stopping metric.
    public var isBest: Bool
    /// The learning rate the epoch trained with.
    public var learningRate: Float
    /// Training time (without validation), and the training examples per second.
    public var seconds: Double
    public var examplesPerSecond: Double
}
