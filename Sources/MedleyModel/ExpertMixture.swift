/// A gate's mixture of expert outputs, row by row: what MMoE's and PLE's gates compute, in
/// the per-example pass (one row) and the batched serving pass alike.
enum ExpertMixture {
    /// Row b of the result is Σ_e probabilities[b, e] · outputs[e] row b; `probabilities` is
    /// `count` × experts, each output `count` × width.
    static func mix(probabilities p: [Float], outputs: [[Float]], count n: Int = 1) -> [Float] {
        guard n > 0, let first = outputs.first else { return [] }
        let width = first.count / n
        let experts = outputs.count
        var r = [Float](repeating: 0, count: n * width)
        for (e, h) in outputs.enumerated() {
            for b in 0..<n {
                let w = p[b * experts + e]
                for k in 0..<width { r[b * width + k] += w * h[b * width + k] }
            }
        }
        return r
    }
}
