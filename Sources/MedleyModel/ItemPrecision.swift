/// The precision of the item table the scoring pass reads.
public enum ItemPrecision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The float32 table itself: exact scores, exact lists.
    case float32
    /// A bfloat16 copy (half the memory traffic), with each list's candidates re-scored in
    /// float32 (``ItemScorer/offer(queries:queryCount:dimension:reduced:embeddings:biases:rows:into:excluding:)``).
    /// Scores are exact; lists equal the float32 lists except in rare near-misses that
    /// BENCHMARKS.md measures. Costs a second copy of the table at half its size.
    case bfloat16

    public var description: String { rawValue }
}
