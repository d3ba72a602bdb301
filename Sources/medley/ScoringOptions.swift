import ArgumentParser
import MedleyModel
import MedleyModelDistribution

/// How a serving model scores its items: the item table's precision and the index, shared by
/// `medley serve` and `medley bench model`.
struct ScoringOptions: ParsableArguments {
    @Option(help: "The item table scoring reads: float32 (exact), bfloat16 (half the memory traffic), int8 (a quarter), or auto: int8 for models whose float32 item table is at least 1 MiB (8 MiB without AVX2), float32 below. With bfloat16 or int8, each list's candidates are re-scored in float32, and int8's lists are checked against its error bound, so they are the float32 lists (see BENCHMARKS.md).")
    var itemPrecision: ItemPrecisionChoice = .automatic

    @Option(help: "exact (every item scored), or ivf: an inverted-file index, built at load, on domains of at least --index-minimum-items items (approximate lists; see BENCHMARKS.md).")
    var index: IndexArgument = .exact

    @Option(help: "With --index ivf: lists each query scores.")
    var indexProbes: Int = 32

    @Option(help: "With --index ivf: the smallest domain that gets an index; smaller ones are scored exactly.")
    var indexMinimumItems: Int = IVFIndex.minimumBlockRows

    enum IndexArgument: String, ExpressibleByArgument, CaseIterable { case exact, ivf }

    func validate() throws {
        guard indexProbes > 0 else { throw ValidationError("--index-probes must be positive") }
        guard indexMinimumItems > 0 else { throw ValidationError("--index-minimum-items must be positive") }
    }

    var itemIndex: ItemIndexKind {
        switch index {
        case .exact: .exact
        case .ivf: .ivf(probes: indexProbes, minimumBlockRows: indexMinimumItems)
        }
    }

    /// Makes the models a server or worker swaps in later scored as the one it starts with.
    func apply(to updates: inout ModelUpdateConfiguration) {
        updates.itemPrecision = itemPrecision
        updates.itemIndex = itemIndex
    }
}
