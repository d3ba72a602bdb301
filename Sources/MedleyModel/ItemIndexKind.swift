/// How scoring finds the best items of a domain block.
public enum ItemIndexKind: Sendable, Equatable, CustomStringConvertible {
    /// Every item is scored: exact lists. The default.
    case exact
    /// Domain blocks of at least `minimumBlockRows` items (by default
    /// ``IVFIndex/minimumBlockRows``) get an ``IVFIndex`` built at load, and each query scores
    /// only the items of its `probes` best lists (approximate: BENCHMARKS.md measures recall@10
    /// against exact scoring). Smaller blocks are scored exactly.
    case ivf(probes: Int, minimumBlockRows: Int = IVFIndex.minimumBlockRows)

    public var description: String {
        switch self {
        case .exact: "exact"
        case .ivf(let probes, let minimum): "ivf (\(probes) probes, domains of at least \(minimum) items)"
        }
    }
}

extension IVFIndex {
    /// Blocks smaller than this are scored exactly even with an index asked for, unless the
    /// index is asked for with a smaller minimum: below it a full scan costs about as much as
    /// probing, and exact lists come free.
    public static let minimumBlockRows = 50_000
}
