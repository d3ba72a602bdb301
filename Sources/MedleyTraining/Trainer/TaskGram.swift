/// The inner products of the tasks' gradients on the shared representation, summed into a
/// T × T Gram matrix (GradNorm's norms, MGDA's combination).
enum TaskGram {
    /// Adds ⟨z_s, z_t⟩ to `gram[s·T + t]` (and `gram[t·T + s]`) for every pair of tasks with a
    /// gradient (nil: none); the vectors have one length.
    ///
    /// Each pair's product is summed in double precision over the elements in order, as one
    /// loop per pair would, so the bits do not depend on how the pairs are grouped. The pairs
    /// go eight at a time through one pass over the elements: a loop per pair waits on each
    /// addition, where eight independent sums keep the adder busy.
    static func add(_ z: [[Float]?], to gram: inout [Double]) {
        let taskCount = z.count
        precondition(gram.count == taskCount * taskCount, "a Gram matrix of \(gram.count) for \(taskCount) tasks")
        let present = z.indices.filter { z[$0] != nil }
        guard let first = present.first else { return }
        let length = z[first]!.count
        precondition(present.allSatisfy { z[$0]!.count == length }, "task gradients of different lengths")
        guard length > 0 else { return }
        var pairs: [(s: Int, t: Int)] = []
        for (i, s) in present.enumerated() {
            for t in present[i...] { pairs.append((s, t)) }
        }
        var dots = [Double](repeating: 0, count: pairs.count)
        withBasePointers(z) { vectors in
            var start = 0
            while start < pairs.count {
                // A group of eight; a short last group repeats its first pair in the spare lanes.
                let lanes = (0..<8).map { pairs[start + ($0 < pairs.count - start ? $0 : 0)] }
                let (a0, b0) = (vectors[lanes[0].s]!, vectors[lanes[0].t]!), (a1, b1) = (vectors[lanes[1].s]!, vectors[lanes[1].t]!)
                let (a2, b2) = (vectors[lanes[2].s]!, vectors[lanes[2].t]!), (a3, b3) = (vectors[lanes[3].s]!, vectors[lanes[3].t]!)
                let (a4, b4) = (vectors[lanes[4].s]!, vectors[lanes[4].t]!), (a5, b5) = (vectors[lanes[5].s]!, vectors[lanes[5].t]!)
                let (a6, b6) = (vectors[lanes[6].s]!, vectors[lanes[6].t]!), (a7, b7) = (vectors[lanes[7].s]!, vectors[lanes[7].t]!)
                var (d0, d1, d2, d3, d4, d5, d6, d7) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                for k in 0..<length {
                    d0 += Double(a0[k]) * Double(b0[k])
                    d1 += Double(a1[k]) * Double(b1[k])
                    d2 += Double(a2[k]) * Double(b2[k])
                    d3 += Double(a3[k]) * Double(b3[k])
                    d4 += Double(a4[k]) * Double(b4[k])
                    d5 += Double(a5[k]) * Double(b5[k])
                    d6 += Double(a6[k]) * Double(b6[k])
                    d7 += Double(a7[k]) * Double(b7[k])
                }
                let sums = [d0, d1, d2, d3, d4, d5, d6, d7]
                for lane in 0..<min(8, pairs.count - start) { dots[start + lane] = sums[lane] }
                start += 8
            }
        }
        for (p, pair) in pairs.enumerated() {
            gram[pair.s * taskCount + pair.t] += dots[p]
            if pair.t != pair.s { gram[pair.t * taskCount + pair.s] += dots[p] }
        }
    }

    /// Calls `body` with each vector's base address (nil for a task without one).
    private static func withBasePointers(_ z: [[Float]?], _ body: ([UnsafePointer<Float>?]) -> Void) {
        func nest(_ index: Int, _ pointers: [UnsafePointer<Float>?]) {
            guard index < z.count else { return body(pointers) }
            guard let vector = z[index] else { return nest(index + 1, pointers + [nil]) }
            vector.withUnsafeBufferPointer { nest(index + 1, pointers + [$0.baseAddress]) }
        }
        nest(0, [])
    }
}
