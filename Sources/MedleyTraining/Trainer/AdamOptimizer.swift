import Foundation
import MedleyModel

/// Adam (Kingma & Ba 2015) with decoupled weight decay (AdamW) and sparse updates of the
/// embedding tables.
///
/// - Dense tensors (encoder, gates, towers) are updated every step in which their gradient is
///   not all zero; a head whose task is not trained (a single-task model) stays as initialised.
/// - The embedding tables (`item.embedding`, `item.bias`, `user.embedding`) are updated row by
///   row, and only the rows whose gradient in the batch is not all zero ("lazy" Adam): a user
///   absent from a batch keeps its vector, its moments and its decay untouched, instead of
///   drifting on stale momentum. The bias correction uses the global step count.
/// - Weight decay multiplies `.weight` tensors and updated embedding rows by
///   `1 − learningRate × weightDecay` each step; biases are not decayed.
struct AdamOptimizer: Sendable {
    /// The step size; a schedule may lower it between epochs (``scaleLearningRate(by:)``).
    private(set) var learningRate: Float
    let beta1: Float
    let beta2: Float
    let epsilon: Float
    let weightDecay: Float
    /// Large tensors' updates are split over this many threads (element-wise: the same bits).
    let threads: Int
    private var firstMoments: ModelParameters
    private var secondMoments: ModelParameters
    private(set) var step = 0
    /// Tensor names in a fixed order, and each one's row width when it is an embedding table.
    private let schedule: [(name: String, rowWidth: Int?, decays: Bool)]

    init(layout: ParameterLayout, configuration c: TrainingConfiguration) {
        learningRate = c.learningRate
        beta1 = c.adamBeta1
        beta2 = c.adamBeta2
        epsilon = c.adamEpsilon
        weightDecay = c.weightDecay
        threads = c.concurrentThreads
        firstMoments = ModelParameters(zerosFor: layout)
        secondMoments = ModelParameters(zerosFor: layout)
        schedule = layout.entries.map { entry in
            switch entry.name {
            case ParameterLayout.itemEmbedding, ParameterLayout.userEmbedding:
                return (entry.name, entry.shape[1], true)
            case ParameterLayout.itemBias:
                return (entry.name, 1, false)
            default:
                return (entry.name, nil, entry.name.hasSuffix(".weight"))
            }
        }
    }

    /// Multiplies the step size (and with it the decoupled weight decay) by `factor`; the
    /// moments are kept.
    mutating func scaleLearningRate(by factor: Float) {
        learningRate *= factor
    }

    /// One step: `parameters` move against `gradients`.
    mutating func update(_ parameters: inout ModelParameters, gradients: ModelParameters) {
        step += 1
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
        for (name, rowWidth, decays) in schedule {
            let decay: Float = decays ? 1 - learningRate * weightDecay : 1
            let g = gradients[name].scalars
            g.withUnsafeBufferPointer { g in
                parameters.tensors[name]!.scalars.withUnsafeMutableBufferPointer { p in
                    firstMoments.tensors[name]!.scalars.withUnsafeMutableBufferPointer { m in
                        secondMoments.tensors[name]!.scalars.withUnsafeMutableBufferPointer { v in
                            // The update of eight elements, one per lane (the same operations as
                            // element by element): written for lanes since the compiler kept the
                            // element loop scalar, as it cannot rule out that the buffers overlap.
                            @Sendable func step(_ g: SIMD8<Float>, _ m: inout SIMD8<Float>, _ v: inout SIMD8<Float>, _ p: inout SIMD8<Float>) {
                                m = SIMD8(repeating: b1) * m + SIMD8(repeating: 1 - b1) * g
                                v = SIMD8(repeating: b2) * v + SIMD8(repeating: 1 - b2) * g * g
                                let mHat = m / SIMD8(repeating: correction1)
                                let vHat = v / SIMD8(repeating: correction2)
                                p = p * SIMD8(repeating: decay) - SIMD8(repeating: lr) * mHat / (vHat.squareRoot() + SIMD8(repeating: eps))
                            }
                            let buffers = SharedBuffers((g: g, p: p, m: m, v: v))
                            @Sendable func updateRange(_ range: Range<Int>) {
                                let (g, p, m, v) = buffers.value
                                let (gr, pr, mr, vr) = (UnsafeRawPointer(g.baseAddress!), UnsafeMutableRawPointer(p.baseAddress!),
                                                        UnsafeMutableRawPointer(m.baseAddress!), UnsafeMutableRawPointer(v.baseAddress!))
                                var i = range.lowerBound
                                while i + 8 <= range.upperBound {
                                    let offset = i * MemoryLayout<Float>.stride
                                    var mi = mr.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                    var vi = vr.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                    var pi = pr.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                    step(gr.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), &mi, &vi, &pi)
                                    mr.storeBytes(of: mi, toByteOffset: offset, as: SIMD8<Float>.self)
                                    vr.storeBytes(of: vi, toByteOffset: offset, as: SIMD8<Float>.self)
                                    pr.storeBytes(of: pi, toByteOffset: offset, as: SIMD8<Float>.self)
                                    i += 8
                                }
                                guard i < range.upperBound else { return }
                                // The last few elements in the first lanes, the others zero.
                                var (gi, mi, vi, pi) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                                for k in i..<range.upperBound { (gi[k - i], mi[k - i], vi[k - i], pi[k - i]) = (g[k], m[k], v[k], p[k]) }
                                step(gi, &mi, &vi, &pi)
                                for k in i..<range.upperBound { (m[k], v[k], p[k]) = (mi[k - i], vi[k - i], pi[k - i]) }
                            }
                            let splitThreads = ParallelRanges.threads(forElements: g.count, available: threads)
                            guard let width = rowWidth else {
                                if g.contains(where: { $0 != 0 }) { ParallelRanges.forEach(g.count, threads: splitThreads, updateRange) }
                                return
                            }
                            ParallelRanges.forEach(g.count / width, threads: splitThreads, alignment: 1) { rows in
                                let g = buffers.value.g
                                for r in rows {
                                    let row = (r * width)..<((r + 1) * width)
                                    if row.contains(where: { g[$0] != 0 }) { updateRange(row) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
