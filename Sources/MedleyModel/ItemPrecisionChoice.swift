/// How a serving process picks each model's item table: one precision for every model, or
/// ``automatic``, by the model's table size and the kernels this machine runs. The choice is
/// made per model, so a hot-reloaded model whose catalogue grew past the size may switch.
public enum ItemPrecisionChoice: Sendable, Hashable, CustomStringConvertible {
    /// int8 where it is faster than float32 (``automaticPrecision(itemTableBytes:kernel:)``),
    /// float32 elsewhere. int8's lists are the float32 lists (``ItemPrecision/int8``), so the
    /// choice changes speed and memory, not answers.
    case automatic
    case fixed(ItemPrecision)

    /// The float32 table size from which ``automatic`` scores from int8 on a machine with a C
    /// int8 kernel (AVX2 or AVX-512 VNNI): about one core's L2. Measured in process with the
    /// AVX-512 VNNI kernel (BENCHMARKS.md, "int8 by default where it pays"): at 768 KB (3,000
    /// items, d = 64) int8 was 1.2× faster for a lone request and 0.9× for batches of 8; at
    /// 1.5 MB 1.9× and 1.5×; below, float32 was ahead. The AVX2 kernel was not measured apart.
    public static let int8MinimumTableBytes = 1 << 20

    /// The same with the portable loops only, which gain less per row: int8 was 2–3× faster
    /// from about 3 × 20k items at d = 64 (15 MB), and slower at 3 × 5k.
    public static let portableInt8MinimumTableBytes = 8 << 20

    /// The precision a model with a float32 item table of `itemTableBytes` gets.
    public func precision(itemTableBytes: Int, kernel: VectorKernel = .best) -> ItemPrecision {
        switch self {
        case .fixed(let precision): precision
        case .automatic: Self.automaticPrecision(itemTableBytes: itemTableBytes, kernel: kernel)
        }
    }

    /// The precision a model decoded as `contents` gets.
    public func precision(for contents: ModelFileContents, kernel: VectorKernel = .best) -> ItemPrecision {
        let dimension = contents.configuration.embeddingDimension
        return precision(itemTableBytes: contents.catalog.count * dimension * MemoryLayout<Float>.size, kernel: kernel)
    }

    static func automaticPrecision(itemTableBytes: Int, kernel: VectorKernel) -> ItemPrecision {
        let minimum = kernel == .portable ? portableInt8MinimumTableBytes : int8MinimumTableBytes
        return itemTableBytes >= minimum ? .int8 : .float32
    }

    /// `auto` or the precision's name, as `--item-precision` takes it.
    public var description: String {
        switch self {
        case .automatic: "auto"
        case .fixed(let precision): precision.rawValue
        }
    }

    /// Parses ``description``.
    public init?(_ text: String) {
        if text == "auto" {
            self = .automatic
        } else if let precision = ItemPrecision(rawValue: text) {
            self = .fixed(precision)
        } else {
            return nil
        }
    }

    /// Every value `--item-precision` takes.
    public static let allNames = ["auto"] + ItemPrecision.allCases.map(\.rawValue)
}
