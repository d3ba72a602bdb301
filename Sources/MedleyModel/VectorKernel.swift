import CScoringKernels

/// Which instructions the scoring loops use: the portable Swift loops (SSE2 in the baseline
/// x86-64 build), or the C kernels in CScoringKernels written for AVX2 or AVX-512 (F, BW and
/// VNNI) where the CPU has them: the int8 table's multiply-adds (``Int8Table``) and the top-K
/// accumulators' pass over the scores (``TopKAccumulator``). The CPU is asked at run time, so a
/// binary built for baseline x86-64 uses them too.
public enum VectorKernel: String, Sendable, CaseIterable, Comparable {
    case portable
    case avx2
    case avx512VNNI = "avx512-vnni"

    /// The fastest kernel this machine runs.
    public static let best: VectorKernel = switch medley_best_vector_level() {
    case MEDLEY_VECTOR_AVX512_VNNI: .avx512VNNI
    case MEDLEY_VECTOR_AVX2: .avx2
    default: .portable
    }

    /// Every kernel this machine runs, slowest first.
    public static var available: [VectorKernel] { allCases.filter { $0 <= best } }

    /// The C kernels' name for it; nil for the portable loops.
    var level: medley_vector_level? {
        switch self {
        case .portable: nil
        case .avx2: MEDLEY_VECTOR_AVX2
        case .avx512VNNI: MEDLEY_VECTOR_AVX512_VNNI
        }
    }

    /// Queries the int8 kernels take per call.
    static let int8QueriesPerCall = 4

    public static func < (lhs: VectorKernel, rhs: VectorKernel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
