import CScoringKernels

/// Which loop computes an ``Int8Table``'s multiply-adds: the portable Swift one (SSE2's
/// `pmaddwd` in the baseline x86-64 build, eight products per instruction), or the C kernels
/// that use 256-bit AVX2 or 512-bit AVX-512 VNNI instructions where the CPU has them. The CPU
/// is asked at run time, so a binary built for baseline x86-64 uses them too.
public enum Int8Kernel: String, Sendable, CaseIterable, Comparable {
    case portable
    case avx2
    case avx512VNNI = "avx512-vnni"

    /// The fastest kernel this machine runs.
    public static let best: Int8Kernel = switch medley_int8_best_kernel() {
    case MEDLEY_INT8_KERNEL_AVX512_VNNI: .avx512VNNI
    case MEDLEY_INT8_KERNEL_AVX2: .avx2
    default: .portable
    }

    /// Every kernel this machine runs, slowest first.
    public static var available: [Int8Kernel] { allCases.filter { $0 <= best } }

    /// The C kernel's name for it; nil for the portable loop.
    var cKernel: medley_int8_kernel? {
        switch self {
        case .portable: nil
        case .avx2: MEDLEY_INT8_KERNEL_AVX2
        case .avx512VNNI: MEDLEY_INT8_KERNEL_AVX512_VNNI
        }
    }

    /// Queries the C kernels take per call.
    static let queriesPerCall = 4

    public static func < (lhs: Int8Kernel, rhs: Int8Kernel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
