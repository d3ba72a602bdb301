import COpenBLAS
import Foundation
import MedleyModel

/// The full softmax over a block of item rows for a batch of queries, as three matrix products
/// (OpenBLAS `sgemm`) instead of one dot product per query and item:
///
///     S  = Q Eᵀ + b            (n × m logits)
///     G  = c ⊙ (softmax(S) − onehot(target))   (row i scaled by the example's weight c_i)
///     dQ = G E,   dE += Gᵀ Q,   db += Σ_i G_i
///
/// It computes the same loss and gradients as ``Losses/softmaxCrossEntropy(query:target:rows:parameters:weight:gradients:)``,
/// summed in another order.
struct BatchedSoftmax {
    /// Scratch for the n × m logits, reused across batches.
    private var logits: [Float] = []

    /// Per-query losses (unweighted) and query gradients (weighted), accumulating the item
    /// table's gradients into `gradients`.
    ///
    /// - Parameters:
    ///   - queries: n × d, row-major.
    ///   - targets: n absolute item rows, each inside `rows`.
    ///   - weights: n loss weights c_i.
    mutating func crossEntropy(
        queries: [Float], targets: [Int], weights: [Float], rows: Range<Int>,
        parameters: ModelParameters, gradients: inout ModelParameters
    ) -> (losses: [Float], queryGradients: [Float]) {
        let n = targets.count, m = rows.count
        let embeddings = parameters[ParameterLayout.itemEmbedding]
        let d = embeddings.columns
        precondition(queries.count == n * d && weights.count == n, "queries, targets and weights disagree")
        precondition(targets.allSatisfy(rows.contains), "a target lies outside the scored rows")
        scoreBlock(queries: queries, count: n, rows: rows, parameters: parameters)
        var losses = [Float](repeating: 0, count: n)
        var dQueries = [Float](repeating: 0, count: n * d)
        guard n > 0, m > 0 else { return (losses, dQueries) }
        var dB = gradients.tensors.removeValue(forKey: ParameterLayout.itemBias)!
        logits.withUnsafeMutableBufferPointer { s in
            dB.scalars.withUnsafeMutableBufferPointer { db in
                let biasBlock = UnsafeMutableBufferPointer(rebasing: db[rows])
                for i in 0..<n {
                    let row = UnsafeMutableBufferPointer(rebasing: s[(i * m)..<((i + 1) * m)])
                    let target = targets[i] - rows.lowerBound
                    let targetScore = row[target]
                    let (maximum, total) = SoftmaxRow.exponentiate(row)
                    losses[i] = maximum + logf(total) - targetScore
                    // Row i of G = c_i (p − onehot); its column sums are the bias gradient.
                    let scale = weights[i] / total
                    row[target] -= total
                    for j in 0..<m {
                        row[j] *= scale
                        biasBlock[j] += row[j]
                    }
                }
            }
        }
        var dE = gradients.tensors.removeValue(forKey: ParameterLayout.itemEmbedding)!
        logits.withUnsafeBufferPointer { g in
            embeddings.scalars.withUnsafeBufferPointer { e in
                queries.withUnsafeBufferPointer { q in
                    dQueries.withUnsafeMutableBufferPointer { dq in
                        dE.scalars.withUnsafeMutableBufferPointer { de in
                            let block = e.baseAddress! + rows.lowerBound * d
                            // dQ = G E (n × d)
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(d), blasint(m),
                                        1, g.baseAddress, blasint(m), block, blasint(d), 0, dq.baseAddress, blasint(d))
                            // dE += Gᵀ Q (m × d)
                            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(m), blasint(d), blasint(n),
                                        1, g.baseAddress, blasint(m), q.baseAddress, blasint(d), 1,
                                        de.baseAddress! + rows.lowerBound * d, blasint(d))
                        }
                    }
                }
            }
        }
        gradients.tensors[ParameterLayout.itemEmbedding] = dE
        gradients.tensors[ParameterLayout.itemBias] = dB
        return (losses, dQueries)
    }

    /// For evaluation: each query's full-softmax loss and the rank of its target, where the rank
    /// is the number of rows scored above the target plus half the number tied with it.
    mutating func lossesAndRanks(
        queries: [Float], targets: [Int], rows: Range<Int>, parameters: ModelParameters
    ) -> [(loss: Float, rank: Double)] {
        let n = targets.count, m = rows.count
        scoreBlock(queries: queries, count: n, rows: rows, parameters: parameters)
        return logits.withUnsafeBufferPointer { s in
            (0..<n).map { i in
                let row = UnsafeBufferPointer(rebasing: s[(i * m)..<((i + 1) * m)])
                let targetScore = row[targets[i] - rows.lowerBound]
                let maximum = row.max()!
                var total: Float = 0
                var above = 0, tied = 0
                for score in row {
                    total += expf(score - maximum)
                    if score > targetScore { above += 1 } else if score == targetScore { tied += 1 }
                }
                let loss = maximum + logf(total) - targetScore
                return (loss, TargetRank.rank(above: above, tiedIncludingTarget: tied))
            }
        }
    }

    /// Fills `logits` with Q Eᵀ + b over the block (the model's scoring kernel, OpenBLAS).
    private mutating func scoreBlock(queries: [Float], count n: Int, rows: Range<Int>, parameters: ModelParameters) {
        let m = rows.count
        let embeddings = parameters[ParameterLayout.itemEmbedding]
        let bias = parameters[ParameterLayout.itemBias].scalars
        let d = embeddings.columns
        if logits.count < n * m { logits = [Float](repeating: 0, count: n * m) }
        guard n > 0, m > 0 else { return }
        logits.withUnsafeMutableBufferPointer { s in
            queries.withUnsafeBufferPointer { q in
                embeddings.scalars.withUnsafeBufferPointer { e in
                    let block = UnsafeBufferPointer(rebasing: e[(rows.lowerBound * d)..<(rows.upperBound * d)])
                    ScoringKernels.blasScores(queries: q, queryCount: n, items: block, itemCount: m, dimension: d,
                                              into: UnsafeMutableBufferPointer(rebasing: s[0..<(n * m)]))
                }
            }
            bias.withUnsafeBufferPointer { b in
                let block = UnsafeBufferPointer(rebasing: b[rows])
                for i in 0..<n { ElementwiseAdd.add(block, to: UnsafeMutableBufferPointer(rebasing: s[(i * m)..<((i + 1) * m)])) }
            }
        }
    }
}
