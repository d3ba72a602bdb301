import ArgumentParser
import MedleyModel
import MedleyTraining

/// The session-encoder options `medley train` and `medley eval` share. Each command has its
/// own default encoder: `medley train` none (the bundled default model's shape), the
/// evaluations the attention encoder with the settings below.
struct SessionEncoderOptions: ParsableArguments {
    @Option(help: "Session encoder: attention (causal self-attention over the newest items), gru (a recurrent unit reading them oldest first) or none.")
    var sessionEncoder: String?

    @Option(help: "Items the session encoder reads.")
    var sequenceLength: Int = SessionEncoderShape().length

    @Option(help: "What the session encoder reads: history (the user's newest items across sessions) or session (the current session's only).")
    var attentionInput: String = SessionEncoderShape().input.rawValue

    @Option(help: "The session head's query: tower (the tower's output) or tower_plus_attention (plus the session encoder's output).")
    var sessionQuery: String = SessionEncoderShape().sessionQuery.rawValue

    @Option(help: "Transformer blocks of the attention encoder.")
    var attentionBlocks: Int = SessionEncoderShape().blocks

    @Option(help: "Attention heads (must divide the embedding dimension).")
    var attentionHeads: Int = SessionEncoderShape().heads

    @Option(help: "Step between the starts of the session encoder's training windows within a session: from 1 to --sequence-length (windows that do not overlap). Default: half the sequence length, rounded up.")
    var attentionWindowStride: Int?

    @Option(help: "Dropout of the session encoder while training.")
    var dropout: Float = TrainingConfiguration().dropout

    @Option(help: "Sequential rules blended into the session head: on (their weight fitted on the validation examples; left out when it is 0) or off.")
    var sequentialRules: OnOff = .on

    /// The trainer's rules setting for `--sequential-rules`.
    var rulesBlend: SequentialRulesBlend? {
        sequentialRules == .on ? SequentialRulesBlend() : nil
    }

    @Option(help: "The session head's share in the domain lists: on (fitted on the validation examples; 0 keeps the domain heads' own lists) or off.")
    var domainListShare: OnOff = .on

    /// The trainer's setting for `--domain-list-share`.
    var domainListShareFit: DomainListShareFit? {
        domainListShare == .on ? DomainListShareFit() : nil
    }

    /// An option that is on or off; ArgumentParser refuses any other value, naming both.
    enum OnOff: String, ExpressibleByArgument, CaseIterable { case on, off }

    func validate() throws {
        _ = try shape(default: nil)
        guard dropout.isFinite, dropout >= 0, dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
        if let stride = attentionWindowStride, !(1...max(1, sequenceLength)).contains(stride) {
            throw ValidationError("--attention-window-stride must be between 1 and --sequence-length (\(sequenceLength))")
        }
    }

    /// The encoder's shape, or nil for none; `defaultEncoder` applies when the option is not given.
    func shape(default defaultEncoder: SessionEncoderShape?) throws -> SessionEncoderShape? {
        guard let input = AttentionSequence(rawValue: attentionInput) else {
            throw ValidationError("--attention-input is history or session, not \(attentionInput)")
        }
        guard let query = SessionQueryForm(rawValue: sessionQuery) else {
            throw ValidationError("--session-query is tower or tower_plus_attention, not \(sessionQuery)")
        }
        func shape(_ kind: SessionEncoderKind) -> SessionEncoderShape {
            SessionEncoderShape(kind: kind, length: sequenceLength, blocks: attentionBlocks, heads: attentionHeads, input: input,
                                sessionQuery: query)
        }
        switch sessionEncoder {
        case nil: return defaultEncoder.map { shape($0.kind) }
        case "none": return nil
        case "attention":
            guard sequenceLength >= 1, attentionBlocks >= 1, attentionHeads >= 1 else {
                throw ValidationError("--sequence-length, --attention-blocks and --attention-heads must be positive")
            }
            return shape(.attention)
        case "gru":
            guard sequenceLength >= 1 else { throw ValidationError("--sequence-length must be positive") }
            return shape(.gru)
        case let other?: throw ValidationError("--session-encoder is attention, gru or none, not \(other)")
        }
    }
}
