import ArgumentParser

/// `--learning-rate-decay`, shared by `medley train` and `medley eval`; each command has its
/// own default (the evaluations decay, `medley train` keeps the rate constant).
struct LearningRateDecayOption: ParsableArguments {
    @Option(help: "After an epoch without a better validation metric, multiply the learning rate by this factor, in (0, 1]; 1 keeps it constant. Default: \(EvaluationOptions.defaultLearningRateDecay) in medley eval, 1 in medley train.")
    var learningRateDecay: Float?

    func validate() throws {
        if let factor = learningRateDecay, !(factor > 0 && factor <= 1) {
            throw ValidationError("--learning-rate-decay must be in (0, 1]")
        }
    }

    /// The trainer's setting: the given factor, or `defaultFactor`; nil (constant) for 1.
    func onPlateau(default defaultFactor: Float?) -> Float? {
        let factor = learningRateDecay ?? defaultFactor ?? 1
        return factor < 1 ? factor : nil
    }
}
