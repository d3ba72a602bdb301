/// The precision of the item table the scoring pass reads.
public enum ItemPrecision: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The float32 table itself: exact scores, exact lists.
    case float32
    /// A bfloat16 copy (half the memory traffic), with each list's candidates re-scored in
    /// float32 (``ItemScorer/offer(queries:queryCount:dimension:reduced:embeddings:biases:rows:into:excluding:)``).
    /// Scores are exact; lists equal the float32 lists except in rare near-misses that
    /// BENCHMARKS.md measures. Costs a second copy of the table at half its size.
    case bfloat16
    /// An int8 copy with a scale per row (a quarter of the memory traffic), scored with integer
    /// multiply-adds against queries rounded to int16, each list's candidates re-scored in
    /// float32 as with ``bfloat16``. Passes of more than ``ItemScorer/int8QueryLimit`` queries
    /// (batches of more than 16 requests on CPUs with AVX-512 VNNI, 4 elsewhere) read the
    /// float32 table, where sgemm is faster.
    /// Costs a second copy of the table at a quarter of its size.
    case int8

    public var description: String { rawValue }
}
