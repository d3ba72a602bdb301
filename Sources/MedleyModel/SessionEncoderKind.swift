/// Which order-aware session encoder a model has (model-file metadata `session_encoder`,
/// models/README.md, "Metadata").
public enum SessionEncoderKind: String, Sendable, Equatable, CaseIterable {
    /// SASRec-style causal self-attention (``SessionAttention``).
    case attention
    /// A gated recurrent unit read oldest item first (``SessionGRU``), as GRU4Rec.
    case gru
}
