import COpenBLAS

/// Which implementation computes the query-by-item dot products.
public enum ScoringBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Hand-written SIMD Swift (``ScoringKernels/simdScores(queries:queryCount:items:itemCount:dimension:into:)``).
    case simd
    /// OpenBLAS: `cblas_sgemv` for a single query, `cblas_sgemm` for a batch.
    case blas
    /// The faster of the two for the batch size, as measured in BENCHMARKS.md.
    case automatic

    public var description: String { rawValue }
}

/// Dense kernels that score a block of queries against a block of item rows:
/// `out[b * itemCount + i] = dot(queries[b], items[i])`, all row-major with `dimension` columns.
public enum ScoringKernels {
    /// Scores with the given backend. `.automatic` picks per batch size (see BENCHMARKS.md).
    public static func scores(
        backend: ScoringBackend,
        queries: UnsafeBufferPointer<Float>, queryCount: Int,
        items: UnsafeBufferPointer<Float>, itemCount: Int, dimension: Int,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        switch resolved(backend, queryCount: queryCount) {
        case .simd, .automatic:
            simdScores(queries: queries, queryCount: queryCount, items: items, itemCount: itemCount,
                       dimension: dimension, into: out)
        case .blas:
            blasScores(queries: queries, queryCount: queryCount, items: items, itemCount: itemCount,
                       dimension: dimension, into: out)
        }
    }

    /// The concrete backend `.automatic` stands for at a batch size.
    ///
    /// Measured on the 2-core AMD EPYC (BENCHMARKS.md): OpenBLAS was faster or equal for a
    /// single query (sgemv, 1.2–1.9× over SIMD) and for a batch of 64 (sgemm, 1.2–1.4× over SIMD
    /// built for haswell, ~3× over a baseline build), so `.automatic` uses OpenBLAS throughout.
    public static func resolved(_ backend: ScoringBackend, queryCount: Int) -> ScoringBackend {
        backend == .automatic ? .blas : backend
    }

    /// Up to this many queries, ``blasScores(queries:queryCount:items:itemCount:dimension:into:)``
    /// runs one `cblas_sgemv` per query rather than one `cblas_sgemm`: sgemm with a few rows
    /// packs the whole item block first and was 5–8× slower than sgemv per row (BENCHMARKS.md),
    /// while the later queries' sgemv reads a block the first one just brought into cache.
    public static let gemvQueryLimit = 4

    /// OpenBLAS: `cblas_sgemv` per query for up to ``gemvQueryLimit`` queries (sgemm with a
    /// few rows is several times slower), `cblas_sgemm` (queries × itemsᵀ) otherwise.
    public static func blasScores(
        queries: UnsafeBufferPointer<Float>, queryCount: Int,
        items: UnsafeBufferPointer<Float>, itemCount: Int, dimension: Int,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        checkSizes(queries: queries, queryCount: queryCount, items: items, itemCount: itemCount,
                   dimension: dimension, out: out)
        guard queryCount > 0, itemCount > 0 else { return }
        guard dimension > 0 else {
            out.update(repeating: 0)
            return
        }
        let m = blasint(queryCount), n = blasint(itemCount), k = blasint(dimension)
        if queryCount <= gemvQueryLimit {
            for b in 0..<queryCount {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1, items.baseAddress, k,
                            queries.baseAddress! + b * dimension, 1, 0, out.baseAddress! + b * itemCount, 1)
            }
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1,
                        queries.baseAddress, k, items.baseAddress, k, 0, out.baseAddress, n)
        }
    }

    /// OpenBLAS `cblas_sgemm` whatever the batch size, including one query. For measurement
    /// (BENCHMARKS.md compares it with `cblas_sgemv`); ``blasScores(queries:queryCount:items:itemCount:dimension:into:)``
    /// is the one to use.
    public static func blasGEMMScores(
        queries: UnsafeBufferPointer<Float>, queryCount: Int,
        items: UnsafeBufferPointer<Float>, itemCount: Int, dimension: Int,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        checkSizes(queries: queries, queryCount: queryCount, items: items, itemCount: itemCount,
                   dimension: dimension, out: out)
        guard queryCount > 0, itemCount > 0, dimension > 0 else { return }
        let m = blasint(queryCount), n = blasint(itemCount), k = blasint(dimension)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1,
                    queries.baseAddress, k, items.baseAddress, k, 0, out.baseAddress, n)
    }

    /// Whether this build's SIMD kernels use fused multiply-add (`MEDLEY_TARGET_CPU` named a
    /// CPU with FMA).
    public static let usesFusedMultiplyAdd: Bool = {
        #if MEDLEY_FMA
        return true
        #else
        return false
        #endif
    }()

    /// Hand-written SIMD: items are taken in tiles that stay in L1 while every query passes
    /// over them, and each inner step scores two queries against four items so that every
    /// load feeds several multiply-adds.
    public static func simdScores(
        queries: UnsafeBufferPointer<Float>, queryCount: Int,
        items: UnsafeBufferPointer<Float>, itemCount: Int, dimension: Int,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        checkSizes(queries: queries, queryCount: queryCount, items: items, itemCount: itemCount,
                   dimension: dimension, out: out)
        guard queryCount > 0, itemCount > 0 else { return }
        guard dimension > 0, let q = queries.baseAddress, let e = items.baseAddress, let o = out.baseAddress else {
            out.update(repeating: 0)
            return
        }
        let d = dimension
        // ~16 KiB of item rows per tile at d = 64: resident in L1 across all queries.
        let tile = max(4, 4096 / d)
        var tileStart = 0
        while tileStart < itemCount {
            let tileEnd = min(itemCount, tileStart + tile)
            var b = 0
            while b + 2 <= queryCount {
                let q0 = q + b * d, q1 = q0 + d
                let o0 = o + b * itemCount, o1 = o0 + itemCount
                var i = tileStart
                while i + 4 <= tileEnd {
                    dot2x4(q0, q1, e + i * d, d, o0 + i, o1 + i)
                    i += 4
                }
                while i < tileEnd {
                    o0[i] = dot(q0, e + i * d, d)
                    o1[i] = dot(q1, e + i * d, d)
                    i += 1
                }
                b += 2
            }
            if b < queryCount {
                let q0 = q + b * d
                let o0 = o + b * itemCount
                for i in tileStart..<tileEnd {
                    o0[i] = dot(q0, e + i * d, d)
                }
            }
            tileStart = tileEnd
        }
    }

    /// The dot product of two length-`count` vectors.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var k = 0
        while k + 16 <= count {
            acc0 = madd(load8(a + k), load8(b + k), acc0)
            acc1 = madd(load8(a + k + 8), load8(b + k + 8), acc1)
            k += 16
        }
        if k + 8 <= count {
            acc0 = madd(load8(a + k), load8(b + k), acc0)
            k += 8
        }
        var sum = (acc0 + acc1).sum()
        while k < count {
            sum += a[k] * b[k]
            k += 1
        }
        return sum
    }

    /// Two queries against four consecutive item rows (stride `d`): eight dot products.
    @inline(__always)
    private static func dot2x4(
        _ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ e: UnsafePointer<Float>, _ d: Int,
        _ o0: UnsafeMutablePointer<Float>, _ o1: UnsafeMutablePointer<Float>
    ) {
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>(), a03 = SIMD8<Float>()
        var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>(), a13 = SIMD8<Float>()
        let e0 = e, e1 = e + d, e2 = e + 2 * d, e3 = e + 3 * d
        var k = 0
        while k + 8 <= d {
            let x0 = load8(q0 + k), x1 = load8(q1 + k)
            let y0 = load8(e0 + k), y1 = load8(e1 + k), y2 = load8(e2 + k), y3 = load8(e3 + k)
            a00 = madd(x0, y0, a00); a01 = madd(x0, y1, a01); a02 = madd(x0, y2, a02); a03 = madd(x0, y3, a03)
            a10 = madd(x1, y0, a10); a11 = madd(x1, y1, a11); a12 = madd(x1, y2, a12); a13 = madd(x1, y3, a13)
            k += 8
        }
        var s = (a00.sum(), a01.sum(), a02.sum(), a03.sum(), a10.sum(), a11.sum(), a12.sum(), a13.sum())
        while k < d {
            s.0 += q0[k] * e0[k]; s.1 += q0[k] * e1[k]; s.2 += q0[k] * e2[k]; s.3 += q0[k] * e3[k]
            s.4 += q1[k] * e0[k]; s.5 += q1[k] * e1[k]; s.6 += q1[k] * e2[k]; s.7 += q1[k] * e3[k]
            k += 1
        }
        o0[0] = s.0; o0[1] = s.1; o0[2] = s.2; o0[3] = s.3
        o1[0] = s.4; o1[1] = s.5; o1[2] = s.6; o1[3] = s.7
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Whether ``dot(_:_:_:)`` fuses its multiply-adds (a build for a CPU with FMA).
    static var fusesMultiplyAdds: Bool {
        #if MEDLEY_FMA
        true
        #else
        false
        #endif
    }

    /// Multiply-add. Fused only when the build targets a CPU with FMA (`MEDLEY_FMA`, set by
    /// Package.swift from `MEDLEY_TARGET_CPU`): on baseline x86-64 a fused multiply-add is a
    /// library call per lane, far slower than a separate multiply and add.
    @inline(__always)
    private static func madd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
        #if MEDLEY_FMA
        return c.addingProduct(a, b)
        #else
        return c + a * b
        #endif
    }

    private static func checkSizes(
        queries: UnsafeBufferPointer<Float>, queryCount: Int,
        items: UnsafeBufferPointer<Float>, itemCount: Int, dimension: Int,
        out: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(queryCount >= 0 && itemCount >= 0 && dimension >= 0, "negative size")
        precondition(queries.count >= queryCount * dimension, "queries buffer too small")
        precondition(items.count >= itemCount * dimension, "items buffer too small")
        precondition(out.count >= queryCount * itemCount, "output buffer too small")
    }
}

/// OpenBLAS's own thread pool. On a machine whose cores already run the service's workers,
/// OpenBLAS threads compete with them; one thread per call was faster under load (BENCHMARKS.md).
public enum BLASThreads {
    /// The number of threads OpenBLAS uses per call.
    public static var count: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses per call (process-wide).
    public static func set(_ count: Int) {
        precondition(count >= 1, "OpenBLAS needs at least one thread")
        openblas_set_num_threads(Int32(count))
    }
}
