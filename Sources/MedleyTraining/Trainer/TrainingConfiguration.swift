import MedleyModel

/// Everything that decides how a model is trained. Every member has a documented default;
/// two runs with the same configuration (seed and thread count included) and the same events
/// produce bit-identical models.
public struct TrainingConfiguration: Sendable, Equatable {
    /// The model's shape: domains, dimensions, architecture (`mlp` or `mmoe`), last-item slots,
    /// event-type weights and recency half-life. Its `modelVersion` is replaced by the one the
    /// caller passes to ``Trainer/train(_:modelVersion:progress:)``.
    /// Default: ``ModelConfiguration``'s defaults (news/video/music, d = 32, encoder [64], MLP).
    public var model: ModelConfiguration

    /// Passes over the training examples, at most (early stopping may end sooner). Default 20.
    public var epochs: Int
    /// Examples per optimiser step. Default 256.
    public var batchSize: Int
    /// Adam's step size. Default 0.002.
    public var learningRate: Float
    /// Adam's decay rate of the first moment. Default 0.9.
    public var adamBeta1: Float
    /// Adam's decay rate of the second moment. Default 0.999.
    public var adamBeta2: Float
    /// Adam's denominator guard. Default 1e-8.
    public var adamEpsilon: Float
    /// Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): each step multiplies weights and
    /// embedding rows by `1 − learningRate × weightDecay`, apart from the gradient step, so the
    /// regularisation is not rescaled by Adam's per-coordinate step sizes. Biases are not
    /// decayed; embedding rows only when the batch updates them. Default 1e-4.
    public var weightDecay: Float

    /// After an epoch that does not improve the validation metric, the learning rate of the
    /// epochs that follow is multiplied by this factor, in (0, 1) (a step decay on plateaus:
    /// the model keeps training, at smaller steps, where it stopped improving). nil keeps the
    /// rate constant. Default nil; the evaluations set their own (docs/training.md).
    public var learningRateDecayOnPlateau: Float? = nil

    /// Dropout of the session encoder (``ModelConfiguration/sessionEncoder``) while training:
    /// of its input embeddings, and for the attention of each block's attention and
    /// feed-forward outputs. Never applied when serving. Default 0.2.
    public var dropout: Float

    /// A head whose candidate items (a domain's block, or the whole catalogue for the session
    /// head) number more than this is trained with sampled softmax and the log-Q correction
    /// instead of the full softmax. Default 20,000: below it the full softmax, computed as
    /// matrix products, costs about as much as sampling.
    public var sampledSoftmaxThreshold: Int
    /// Negatives drawn per example and head for sampled softmax. Default 1,024.
    public var sampledNegatives: Int
    /// Negatives are drawn with probability proportional to (training count + 1)^exponent
    /// within the head's candidates, the word2vec choice between uniform (0) and popularity (1).
    /// Default 0.75.
    public var negativeSamplingExponent: Double

    /// How the task losses are combined. Default ``TaskWeighting/gradNorm(alpha:)`` with
    /// α = ``TaskWeighting/defaultGradNormAlpha``, the best of the weightings on MovieLens-1M's
    /// chronological split (docs/results-ml1m.md).
    public var taskWeighting: TaskWeighting
    /// Which events are held out to decide when to stop. Default: the last event of each user.
    public var validation: ValidationSplit
    /// When to stop before `epochs`. Default: HR@10 of the session head, patience 2.
    public var earlyStopping: EarlyStopping

    /// Seeds initialisation, shuffling and negative sampling. Default 1.
    public var seed: UInt64
    /// Threads computing gradients; each takes an equal, fixed share of every batch. Results
    /// are identical for the same seed *and* thread count. Default 2 (this project's machines).
    public var threads: Int
    /// The most cores the training occupies at once: the `threads` shares of a batch (and of
    /// the fits after training) run at most this many at a time, the rest in turn. It changes
    /// the speed only, never the model. nil: `threads`. An evaluation that trains several
    /// models sets 1 to train two of them side by side on two cores, which gets more out of
    /// this machine than one model on both (docs/training.md, "Speed").
    public var cores: Int? = nil

    /// A gap between two events of a user longer than this starts a new session. Default 30
    /// minutes, as the service cuts sessions.
    public var sessionGapMilliseconds: Int64
    /// The most recent events of the session so far that an example's session input keeps.
    /// Default 50.
    public var maxSessionLength: Int

    /// The step between the starts of consecutive training windows of the session encoder
    /// within a session (or a user's history, for an encoder reading it); see `SequenceChunks`.
    /// A target past the first n items reads between n − stride + 1 and n items (serving reads
    /// n). nil: ⌈n/2⌉, windows overlapping by half, so such a target reads at least half the
    /// window for about twice the encoder work of windows that do not overlap (stride n).
    public var attentionWindowStride: Int? = nil

    /// Seconds between two ``TrainingProgress/batches(_:)`` reports. Default 5.
    public var progressIntervalSeconds: Double

    /// Sequential rules blended into the session head, their weight fitted on the validation
    /// examples; nil trains none.
    public var sequentialRules: SequentialRulesBlend? = SequentialRulesBlend()

    /// The session head's share in the domain lists, fitted on the validation examples when the
    /// session head and a domain head are trained; nil keeps the domain heads' own lists.
    public var domainListShare: DomainListShareFit? = DomainListShareFit()

    public init(
        model: ModelConfiguration = ModelConfiguration(),
        epochs: Int = 20,
        batchSize: Int = 256,
        learningRate: Float = 0.002,
        adamBeta1: Float = 0.9,
        adamBeta2: Float = 0.999,
        adamEpsilon: Float = 1e-8,
        weightDecay: Float = 1e-4,
        dropout: Float = 0.2,
        sampledSoftmaxThreshold: Int = 20_000,
        sampledNegatives: Int = 1_024,
        negativeSamplingExponent: Double = 0.75,
        taskWeighting: TaskWeighting = .gradNorm(alpha: TaskWeighting.defaultGradNormAlpha),
        validation: ValidationSplit = .lastEventsPerUser(1),
        earlyStopping: EarlyStopping = EarlyStopping(),
        seed: UInt64 = 1,
        threads: Int = 2,
        sessionGapMilliseconds: Int64 = 30 * 60 * 1000,
        maxSessionLength: Int = 50,
        progressIntervalSeconds: Double = 5
    ) {
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.adamBeta1 = adamBeta1
        self.adamBeta2 = adamBeta2
        self.adamEpsilon = adamEpsilon
        self.weightDecay = weightDecay
        self.dropout = dropout
        self.sampledSoftmaxThreshold = sampledSoftmaxThreshold
        self.sampledNegatives = sampledNegatives
        self.negativeSamplingExponent = negativeSamplingExponent
        self.taskWeighting = taskWeighting
        self.validation = validation
        self.earlyStopping = earlyStopping
        self.seed = seed
        self.threads = threads
        self.sessionGapMilliseconds = sessionGapMilliseconds
        self.maxSessionLength = maxSessionLength
        self.progressIntervalSeconds = progressIntervalSeconds
    }

    /// How many of the `threads` shares run at the same time.
    public var concurrentThreads: Int { min(threads, max(1, cores ?? threads)) }

    /// The window stride used with a session encoder of `shape`.
    public func attentionWindowStride(for shape: SessionEncoderShape) -> Int {
        attentionWindowStride ?? (shape.length + 1) / 2
    }

    /// The same settings for the single-task baseline of `task`: only its loss is trained, and
    /// early stopping watches its HR@k (the session head's k, or 10) when `task` ranks items.
    public func singleTask(_ task: Task) -> TrainingConfiguration {
        var copy = self
        copy.taskWeighting = .only(task)
        switch (task, earlyStopping.metric) {
        case (.nextDomain, _):
            copy.earlyStopping.metric = .validationLoss
        case (_, .hitRate(_, let k)):
            copy.earlyStopping.metric = .hitRate(task, at: k)
        case (_, .validationLoss):
            break
        }
        return copy
    }

    /// Checks every value; throws naming the first that is out of range.
    public func validate() throws(TrainingError) {
        func bad(_ name: String, _ reason: String) -> TrainingError { .invalidConfiguration(name, reason) }
        do {
            try model.validate()
        } catch {
            throw bad("model", error.description)
        }
        guard model.contextDimension == 0 || model.contextDimension == ContextFeatures.dimension else {
            throw bad("model", "the trainer makes the default context features (\(ContextFeatures.dimension)) or none (0)")
        }
        guard epochs >= 1 else { throw bad("epochs", "must be at least 1") }
        guard batchSize >= 1 else { throw bad("batchSize", "must be at least 1") }
        guard learningRate.isFinite, learningRate > 0 else { throw bad("learningRate", "must be positive") }
        guard (0..<1).contains(adamBeta1) else { throw bad("adamBeta1", "must be in [0, 1)") }
        guard (0..<1).contains(adamBeta2) else { throw bad("adamBeta2", "must be in [0, 1)") }
        guard adamEpsilon.isFinite, adamEpsilon > 0 else { throw bad("adamEpsilon", "must be positive") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw bad("weightDecay", "must not be negative") }
        if let factor = learningRateDecayOnPlateau, !(factor > 0 && factor < 1) {
            throw bad("learningRateDecayOnPlateau", "must be in (0, 1)")
        }
        guard dropout.isFinite, dropout >= 0, dropout < 1 else { throw bad("dropout", "must be in [0, 1)") }
        guard sampledSoftmaxThreshold >= 1 else { throw bad("sampledSoftmaxThreshold", "must be at least 1") }
        guard sampledNegatives >= 1 else { throw bad("sampledNegatives", "must be at least 1") }
        guard negativeSamplingExponent.isFinite, negativeSamplingExponent >= 0 else {
            throw bad("negativeSamplingExponent", "must not be negative")
        }
        guard threads >= 1, threads <= 256 else { throw bad("threads", "must be between 1 and 256") }
        if let cores, cores < 1 { throw bad("cores", "must be at least 1") }
        guard sessionGapMilliseconds > 0 else { throw bad("sessionGapMilliseconds", "must be positive") }
        guard maxSessionLength >= 1 else { throw bad("maxSessionLength", "must be at least 1") }
        guard progressIntervalSeconds.isFinite, progressIntervalSeconds > 0 else {
            throw bad("progressIntervalSeconds", "must be positive")
        }
        if let stride = attentionWindowStride {
            guard stride >= 1 else { throw bad("attentionWindowStride", "must be at least 1") }
            if let shape = model.sessionEncoder, stride > shape.length {
                throw bad("attentionWindowStride", "must not exceed the session encoder's sequence length (\(shape.length))")
            }
        }
        try taskWeighting.validate(domainCount: model.domains.count)
        try sequentialRules?.validate()
        try domainListShare?.validate()
        try validation.validate()
        try earlyStopping.validate(domainCount: model.domains.count)
        if validation != .none, case .hitRate(let task, _) = earlyStopping.metric, !taskWeighting.trains(task) {
            throw bad("earlyStopping", "stops on \(task), which the task weighting does not train")
        }
    }
}

/// How the per-task losses L_m add up to the loss the optimiser follows.
///
/// Task losses are means over the batch's examples that have the task: every example has the
/// session and next-domain tasks, and the domain task of its target's domain.
public enum TaskWeighting: Sendable, Equatable {
    /// Weight 1 for every task: each domain head, the session head and the next-domain classifier.
    case equal
    /// Σ_m λ_m L_m with the given weights; a task that is not listed has weight 0 (untrained).
    case fixed([Task: Float])
    /// Learned uncertainty weights (Kendall, Gal & Cipolla 2018): a log-variance s_m per task,
    /// starting at 0 and learned by the same optimiser, and the loss Σ_m exp(−s_m) L_m + s_m.
    /// A noisier task (a higher irreducible loss) ends with a larger s_m, hence a smaller weight.
    case uncertainty
    /// GradNorm (Chen et al. 2018): a weight per task, starting at 1, moved after each batch so
    /// that each task's gradient norm at the shared representation follows its relative
    /// inverse training rate raised to `alpha`, and renormalised to sum to the task count
    /// (``GradNormWeights``). The paper's α is 0.5–3; 1.5 is its usual choice.
    case gradNorm(alpha: Float)
    /// The α of the default weighting and of `gradnorm` on the command line: 0.5, which
    /// trained a better session head than 1.5 on MovieLens-1M at every seed measured (a
    /// slow-training task, there the next-domain classifier, gains less extra weight).
    public static let defaultGradNormAlpha: Float = 0.5
    /// MGDA-UB (Sener & Koltun 2018): each batch, the weights are the minimum-norm convex
    /// combination of the tasks' gradients with respect to the shared representation
    /// (``MinimumNormCombination``), scaled to sum to the number of tasks in the batch. The
    /// step is then one that no task's loss opposes to first order.
    case mgda

    /// Only one task's loss: the single-task baseline of that head.
    public static func only(_ task: Task) -> TaskWeighting { .fixed([task: 1]) }

    /// Whether the task's loss reaches the optimiser.
    public func trains(_ task: Task) -> Bool {
        switch self {
        case .equal, .uncertainty, .gradNorm, .mgda: return true
        case .fixed(let weights): return (weights[task] ?? 0) > 0
        }
    }

    func validate(domainCount: Int) throws(TrainingError) {
        if case .gradNorm(let alpha) = self, !(alpha.isFinite && alpha >= 0) {
            throw .invalidConfiguration("taskWeighting", "GradNorm's alpha must be finite and not negative")
        }
        guard case .fixed(let weights) = self else { return }
        for (task, weight) in weights {
            if case .domain(let d) = task, !(0..<domainCount).contains(d) {
                throw .invalidConfiguration("taskWeighting", "domain index \(d) outside 0..<\(domainCount)")
            }
            guard weight.isFinite, weight >= 0 else {
                throw .invalidConfiguration("taskWeighting", "weight of \(task) must be finite and not negative")
            }
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw .invalidConfiguration("taskWeighting", "no task has a positive weight")
        }
    }
}

/// Which events are held out from training to measure the model while it trains.
public enum ValidationSplit: Sendable, Equatable {
    /// Each user's last `n` events (in time order) are validation targets, for users with at
    /// least `n + 2` events, so that every such user keeps two training events (one example and
    /// a learned user vector). Their inputs are built from everything before them.
    case lastEventsPerUser(Int)
    /// Every event at or after the time below which `1 − fraction` of all events fall (a global
    /// time cut: the model is validated on the future it has not seen).
    case timeFraction(Double)
    /// No validation: every epoch runs and early stopping is off.
    case none

    func validate() throws(TrainingError) {
        switch self {
        case .lastEventsPerUser(let n):
            guard n >= 1 else { throw .invalidConfiguration("validation", "must hold out at least one event per user") }
        case .timeFraction(let f):
            guard f > 0, f < 1 else { throw .invalidConfiguration("validation", "the fraction must be in (0, 1)") }
        case .none:
            break
        }
    }
}

/// When to stop: after `patience` epochs without a better validation metric. The parameters
/// of the best epoch are the ones returned.
public struct EarlyStopping: Sendable, Equatable {
    /// What is watched on the validation examples.
    public enum Metric: Sendable, Equatable {
        /// The sum of the trained tasks' mean validation losses (full softmax); lower is better.
        case validationLoss
        /// HR@k of one head over its validation examples; higher is better.
        case hitRate(Task, at: Int)
    }

    public var metric: Metric
    /// Epochs without improvement before stopping. Default 2.
    public var patience: Int
    /// Whether to stop early at all; when false every epoch runs (the best epoch is still kept).
    public var enabled: Bool

    public init(metric: Metric = .hitRate(.session, at: 10), patience: Int = 2, enabled: Bool = true) {
        self.metric = metric
        self.patience = patience
        self.enabled = enabled
    }

    func validate(domainCount: Int) throws(TrainingError) {
        guard patience >= 1 else { throw .invalidConfiguration("earlyStopping", "patience must be at least 1") }
        if case .hitRate(let task, let k) = metric {
            guard k >= 1 else { throw .invalidConfiguration("earlyStopping", "k must be at least 1") }
            switch task {
            case .nextDomain:
                throw .invalidConfiguration("earlyStopping", "the next-domain classifier has no item ranking")
            case .domain(let d) where !(0..<domainCount).contains(d):
                throw .invalidConfiguration("earlyStopping", "domain index \(d) outside 0..<\(domainCount)")
            default:
                break
            }
        }
    }
}
