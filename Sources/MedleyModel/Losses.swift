/// A loss value and its gradient with respect to the query or logits it was computed from.
public struct LossResult: Sendable {
    public var loss: Float
    /// d(weight × loss)/d(query) for item losses, d(weight × loss)/d(logits) for the classifier.
    public var inputGradient: [Float]
}

/// The training losses. Item losses score `q · e_i + b_i` and accumulate the gradients of
/// `weight × loss` for the item embeddings and biases they touch into `gradients`; the
/// returned input gradient goes to ``Network/OutputGradients``.
public enum Losses {
    /// Softmax cross-entropy over every item in `rows` (a domain's block, or the whole table
    /// for the session head): `log Σ_j exp(s_j) − s_target`.
    public static func softmaxCrossEntropy(
        query: [Float], target: Int, rows: Range<Int>, parameters: ModelParameters,
        weight: Float = 1, gradients: inout ModelParameters
    ) -> LossResult {
        precondition(rows.contains(target), "target \(target) outside rows \(rows)")
        return crossEntropy(query: query, candidates: Array(rows), targetPosition: target - rows.lowerBound,
                            logitOffsets: nil, parameters: parameters, weight: weight, gradients: &gradients)
    }

    /// Sampled softmax cross-entropy with the log-Q correction (Yi et al. 2019): the target and
    /// the sampled negatives each have their score reduced by the log of the probability with
    /// which the sampler draws them, which makes the sampled loss an unbiased stand-in for the
    /// full softmax's gradient direction. Negatives equal to the target (accidental hits) are dropped.
    ///
    /// - Parameters:
    ///   - targetLogProbability: log Q(target) under the sampler.
    ///   - negatives: sampled rows, and `negativeLogProbabilities` their log Q.
    public static func sampledSoftmaxCrossEntropy(
        query: [Float], target: Int, targetLogProbability: Float,
        negatives: [Int], negativeLogProbabilities: [Float], parameters: ModelParameters,
        weight: Float = 1, gradients: inout ModelParameters
    ) -> LossResult {
        precondition(negatives.count == negativeLogProbabilities.count, "one log-probability per negative")
        var candidates = [target]
        var offsets = [-targetLogProbability]
        for (row, logQ) in zip(negatives, negativeLogProbabilities) where row != target {
            candidates.append(row)
            offsets.append(-logQ)
        }
        return crossEntropy(query: query, candidates: candidates, targetPosition: 0, logitOffsets: offsets,
                            parameters: parameters, weight: weight, gradients: &gradients)
    }

    /// Cross-entropy of the next-domain classifier: `−log softmax(logits)[target]`.
    public static func nextDomainCrossEntropy(logits: [Float], target: Int, weight: Float = 1) -> LossResult {
        precondition(logits.indices.contains(target), "target domain \(target) out of range")
        let p = Softmax.forward(logits)
        let loss = Softmax.logSumExp(logits) - logits[target]
        var grad = p.map { weight * $0 }
        grad[target] -= weight
        return LossResult(loss: loss, inputGradient: grad)
    }

    private static func crossEntropy(
        query: [Float], candidates: [Int], targetPosition: Int, logitOffsets: [Float]?,
        parameters: ModelParameters, weight: Float, gradients: inout ModelParameters
    ) -> LossResult {
        let embeddings = parameters[ParameterLayout.itemEmbedding]
        let bias = parameters[ParameterLayout.itemBias].scalars
        let d = embeddings.columns
        precondition(query.count == d, "query has \(query.count) elements, embeddings \(d)")
        var logits = [Float](repeating: 0, count: candidates.count)
        embeddings.scalars.withUnsafeBufferPointer { e in
            query.withUnsafeBufferPointer { q in
                for (j, row) in candidates.enumerated() {
                    logits[j] = ScoringKernels.dot(q.baseAddress!, e.baseAddress! + row * d, d) + bias[row] + (logitOffsets?[j] ?? 0)
                }
            }
        }
        let loss = Softmax.logSumExp(logits) - logits[targetPosition]
        var dLogits = Softmax.forward(logits)
        dLogits[targetPosition] -= 1
        var dq = [Float](repeating: 0, count: d)
        var dE = gradients.tensors.removeValue(forKey: ParameterLayout.itemEmbedding)!
        var dB = gradients.tensors.removeValue(forKey: ParameterLayout.itemBias)!
        embeddings.scalars.withUnsafeBufferPointer { e in
            dE.scalars.withUnsafeMutableBufferPointer { ge in
                for (j, row) in candidates.enumerated() {
                    let g = weight * dLogits[j]
                    guard g != 0 else { continue }
                    dB.scalars[row] += g
                    for k in 0..<d {
                        dq[k] += g * e[row * d + k]
                        ge[row * d + k] += g * query[k]
                    }
                }
            }
        }
        gradients.tensors[ParameterLayout.itemEmbedding] = dE
        gradients.tensors[ParameterLayout.itemBias] = dB
        return LossResult(loss: loss, inputGradient: dq)
    }
}
