import COpenBLAS

/// Row-major matrix products through OpenBLAS `cblas_sgemm`, for the layers that work on a
/// whole sequence at once (``SessionAttention``).
enum MatrixProduct {
    /// `C = op(A) op(B) + beta · C` with `op(A)` m × k and `op(B)` k × n, all row-major.
    /// `A` is stored m × k (or k × m when `transposeA`), `B` k × n (or n × k when `transposeB`).
    /// Leading dimensions default to the stored widths; pass them to work on column blocks.
    static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool = false, lda: Int? = nil,
        _ b: UnsafePointer<Float>, transposeB: Bool = false, ldb: Int? = nil,
        into c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // A product over an empty inner dimension is zero.
            for i in 0..<m { for j in 0..<n { c[i * (ldc ?? n) + j] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda ?? (transposeA ? m : k)), b, blasint(ldb ?? (transposeB ? k : n)),
                    beta, c, blasint(ldc ?? n))
    }
}

/// A fully connected layer applied to every row of a matrix: `Y = X Wᵀ + b` with `X` m × in,
/// `W` out × in (the layout of ``Linear``).
enum RowwiseLinear {
    static func forward(weight: Tensor, bias: Tensor, input x: [Float], rows m: Int) -> [Float] {
        let out = weight.rows, width = weight.columns
        precondition(x.count == m * width && bias.count == out, "rowwise linear: input \(x.count), weight \(weight.shape)")
        var y = [Float](repeating: 0, count: m * out)
        for i in 0..<m { for o in 0..<out { y[i * out + o] = bias.scalars[o] } }
        x.withUnsafeBufferPointer { xp in
            weight.scalars.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { yp in
                    MatrixProduct.multiply(xp.baseAddress!, w.baseAddress!, transposeB: true, into: yp.baseAddress!,
                                           m: m, n: out, k: width, beta: 1)
                }
            }
        }
        return y
    }

    /// Adds `dYᵀ X` to the weight gradient and the column sums of `dY` to the bias gradient;
    /// returns `dX = dY W`.
    static func backward(weight: Tensor, input x: [Float], rows m: Int, outputGradient dy: [Float],
                         weightGradient: inout Tensor, biasGradient: inout Tensor) -> [Float] {
        let out = weight.rows, width = weight.columns
        precondition(dy.count == m * out && x.count == m * width, "rowwise linear backward: shapes disagree")
        var dx = [Float](repeating: 0, count: m * width)
        dy.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xp in
                weightGradient.scalars.withUnsafeMutableBufferPointer { dw in
                    MatrixProduct.multiply(g.baseAddress!, transposeA: true, xp.baseAddress!, into: dw.baseAddress!,
                                           m: out, n: width, k: m, beta: 1)
                }
            }
            weight.scalars.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { d in
                    MatrixProduct.multiply(g.baseAddress!, w.baseAddress!, into: d.baseAddress!, m: m, n: width, k: out)
                }
            }
        }
        biasGradient.scalars.withUnsafeMutableBufferPointer { db in
            for i in 0..<m { for o in 0..<out { db[o] += dy[i * out + o] } }
        }
        return dx
    }
}
