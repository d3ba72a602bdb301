/// The shape of the order-aware session encoder over the user's or the session's most recent
/// items: SASRec-style causal self-attention or a GRU (models/README.md, "Session attention" and "Session GRU").
/// Stored in a model file's metadata as `session_encoder` (`attention` or `gru`),
/// `sequence_length`, `attention_input` and `session_query`, and for the attention
/// `attention_blocks` and `attention_heads`.
public struct SessionEncoderShape: Sendable, Equatable {
    /// The encoder: self-attention or a GRU.
    public var kind: SessionEncoderKind
    /// n: how many of the newest known items the encoder reads.
    public var length: Int
    /// Whether those items are the user's across sessions or the current session's only.
    public var input: AttentionSequence
    /// Whether the encoder's output is also added to the session head's query.
    public var sessionQuery: SessionQueryForm
    /// Transformer blocks, each attention then feed-forward, with pre-normalisation (attention
    /// only; a GRU shape keeps the default).
    public var blocks: Int
    /// Attention heads; the embedding dimension must be a multiple of it (attention only).
    public var heads: Int

    public init(kind: SessionEncoderKind = .attention, length: Int = 50, blocks: Int = 2, heads: Int = 1,
                input: AttentionSequence = .session, sessionQuery: SessionQueryForm = .tower) {
        self.kind = kind
        self.length = length
        self.input = input
        self.sessionQuery = sessionQuery
        self.blocks = kind == .attention ? blocks : Self.defaultBlocks
        self.heads = kind == .attention ? heads : Self.defaultHeads
    }

    static let defaultBlocks = 2
    static let defaultHeads = 1

    /// The settings as reports print them: "attention, n 50 of the session, 2 blocks, 1 heads"
    /// or "GRU, n 50 of the session".
    public var summary: String {
        let read = "n \(length) of the \(input.rawValue)"
        let body: String
        switch kind {
        case .attention: body = "attention, \(read), \(blocks) blocks, \(heads) heads"
        case .gru: body = "GRU, \(read)"
        }
        return body + (sessionQuery == .tower ? "" : ", added to the session query")
    }

    /// Checks the numbers against the embedding dimension d.
    func validate(embeddingDimension d: Int) throws(ModelFileError) {
        guard (1...4096).contains(length) else {
            throw .invalidMetadata(key: ModelFile.Key.sequenceLength, reason: "must be between 1 and 4096")
        }
        guard kind == .attention else { return }
        guard (1...64).contains(blocks) else {
            throw .invalidMetadata(key: ModelFile.Key.attentionBlocks, reason: "must be between 1 and 64")
        }
        guard heads >= 1, heads <= d, d % heads == 0 else {
            throw .invalidMetadata(key: ModelFile.Key.attentionHeads, reason: "must divide embedding_dim (\(d))")
        }
    }
}
