import CScoringKernels

/// The softmax of one row of logits, eight lanes at a time. The trainer evaluates it for every
/// candidate item of every example, where calling the C library's `expf` once per element cost
/// more than the matrix products themselves.
enum SoftmaxRow {
    /// The CPU's vector level: with AVX2, the lanes go through CScoringKernels' kernels, which
    /// give the portable loops' bits in half the instructions of the baseline build's SSE2.
    static let vectorLevel = medley_best_vector_level()
    static var hasVectorKernels: Bool { vectorLevel != MEDLEY_VECTOR_PORTABLE }

    /// Replaces `row` by `exp(row − max(row))` and returns the maximum and the sum of the
    /// exponentials. Deterministic: the lanes are summed in a fixed order, the same with the
    /// AVX2 kernels (`vector`) as without.
    static func exponentiate(_ row: UnsafeMutableBufferPointer<Float>,
                             vector: Bool = hasVectorKernels) -> (maximum: Float, total: Float) {
        guard let base = row.baseAddress, row.count > 0 else { return (-.infinity, 0) }
        let n = row.count
        let whole = n - n % 8
        let raw = UnsafeMutableRawPointer(base)
        var maxima = SIMD8<Float>(repeating: -.infinity)
        if vector {
            withUnsafeMutableBytes(of: &maxima) { lanes in
                medley_softmax_lane_maxima(vectorLevel, base, whole, lanes.baseAddress!.assumingMemoryBound(to: Float.self))
            }
        } else {
            for i in stride(from: 0, to: whole, by: 8) {
                let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                maxima.replace(with: v, where: v .> maxima)
            }
        }
        var maximum = maxima.max()
        for i in whole..<n { maximum = max(maximum, base[i]) }
        var totals = SIMD8<Float>()
        let shift = SIMD8<Float>(repeating: maximum)
        if vector {
            withUnsafeMutableBytes(of: &totals) { lanes in
                medley_softmax_exp_shifted(vectorLevel, base, whole, maximum, lanes.baseAddress!.assumingMemoryBound(to: Float.self))
            }
        } else {
            for i in stride(from: 0, to: whole, by: 8) {
                let e = exp(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - shift)
                raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
                totals += e
            }
        }
        var total = totals.sum()
        if whole < n {
            var tail = SIMD8<Float>(repeating: -.infinity)
            for k in whole..<n { tail[k - whole] = base[k] }
            let e = exp(tail - shift)
            for k in whole..<n {
                base[k] = e[k - whole]
                total += e[k - whole]
            }
        }
        return (maximum, total)
    }

    /// e^x for x ≤ 0 (as after subtracting the maximum), to about 2 ulp: x = n ln 2 + r with
    /// |r| ≤ ln 2 / 2, e^r by the Cephes polynomial, 2^n from the exponent bits. Below −87
    /// (where e^x is under the smallest normal float) the result is about 1e-38, negligible
    /// against the row's total, which is at least 1.
    ///
    /// Written with lane-wise comparisons and bit casts only: the generic SIMD conversions
    /// (`rounded`, `SIMD8<Int32>(_:)`, `pointwiseMax`) are not vectorised on baseline x86-64
    /// and were slower than `expf`.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let floor = SIMD8<Float>(repeating: -87)
        let x = x.replacing(with: floor, where: x .< floor)
        // Adding 1.5 × 2^23 rounds to the nearest integer n and leaves n in the low mantissa
        // bits, as long as |n| < 2^22.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = x * 1.442_695_04 + magic
        let n = shifted - magic
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * r * r + r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
        return y * scale
    }
}
