/// A reduced-precision copy of the item table, which the scoring pass reads before it re-scores
/// each list's candidates in float32
/// (``ItemScorer/offer(queries:queryCount:dimension:reduced:embeddings:biases:rows:into:excluding:)``).
public enum ReducedItemTable: Sendable {
    case bfloat16(BFloat16Table)
    case int8(Int8Table)

    /// The copy `precision` asks for; nil for float32, which is scored from the table itself.
    public init?(_ precision: ItemPrecision, embeddings: [Float], dimension: Int) {
        switch precision {
        case .float32: return nil
        case .bfloat16: self = .bfloat16(BFloat16Table(embeddings, dimension: dimension))
        case .int8: self = .int8(Int8Table(embeddings, dimension: dimension))
        }
    }

    public var rows: Int {
        switch self {
        case .bfloat16(let table): table.rows
        case .int8(let table): table.rows
        }
    }

    public var dimension: Int {
        switch self {
        case .bfloat16(let table): table.dimension
        case .int8(let table): table.dimension
        }
    }
}
