/// The shape of the order-aware session encoder: SASRec-style causal self-attention over the
/// user's or the session's most recent items (models/README.md, "Session attention"). Stored in
/// a model file's metadata as `session_encoder` = `attention`, `sequence_length`,
/// `attention_blocks`, `attention_heads`, `attention_input` and `session_query`.
public struct SessionEncoderShape: Sendable, Equatable {
    /// n: how many of the newest known items the encoder reads.
    public var length: Int
    /// Whether those items are the user's across sessions or the current session's only.
    public var input: AttentionSequence
    /// Whether the encoder's output is also added to the session head's query.
    public var sessionQuery: SessionQueryForm
    /// Transformer blocks, each attention then feed-forward, with pre-normalisation.
    public var blocks: Int
    /// Attention heads; the embedding dimension must be a multiple of it.
    public var heads: Int

    public init(length: Int = 50, blocks: Int = 2, heads: Int = 1, input: AttentionSequence = .session,
                sessionQuery: SessionQueryForm = .tower) {
        self.length = length
        self.input = input
        self.sessionQuery = sessionQuery
        self.blocks = blocks
        self.heads = heads
    }

    /// The settings as reports print them: "n 50 of the session, 2 blocks, 1 heads".
    public var summary: String {
        "n \(length) of the \(input.rawValue), \(blocks) blocks, \(heads) heads"
            + (sessionQuery == .tower ? "" : ", added to the session query")
    }

    /// Checks the numbers against the embedding dimension d.
    func validate(embeddingDimension d: Int) throws(ModelFileError) {
        guard (1...4096).contains(length) else {
            throw .invalidMetadata(key: ModelFile.Key.sequenceLength, reason: "must be between 1 and 4096")
        }
        guard (1...64).contains(blocks) else {
            throw .invalidMetadata(key: ModelFile.Key.attentionBlocks, reason: "must be between 1 and 64")
        }
        guard heads >= 1, heads <= d, d % heads == 0 else {
            throw .invalidMetadata(key: ModelFile.Key.attentionHeads, reason: "must divide embedding_dim (\(d))")
        }
    }
}
