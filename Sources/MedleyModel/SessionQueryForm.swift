/// How the session head's query is formed in a model with the session attention (model-file
/// metadata `session_query`, models/README.md, "Forward pass").
public enum SessionQueryForm: String, Sendable, Equatable, CaseIterable {
    /// The session tower's output alone: the attention reaches the query only through the
    /// shared encoder. The meaning of a file without the key.
    case tower
    /// The tower's output plus the attention output a: the attention scores items directly, as
    /// in SASRec (score = a · e_i), and the encoder and tower add what the other inputs know.
    case towerPlusAttention = "tower_plus_attention"
}
