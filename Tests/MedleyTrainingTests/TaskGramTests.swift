import Testing
@testable import MedleyTraining
@testable import MedleySystem

/// The Gram matrix of the tasks' gradients, pairs summed eight at a time, against one loop per
/// pair: the same bits, whatever the number of tasks, the tasks without a gradient and the
/// length.
@Suite struct TaskGramTests {
    private func pairAtATime(_ z: [[Float]?], to gram: inout [Double]) {
        let taskCount = z.count
        for s in 0..<taskCount {
            guard let a = z[s] else { continue }
            for t in s..<taskCount {
                guard let b = z[t] else { continue }
                var dot = 0.0
                for k in a.indices { dot += Double(a[k]) * Double(b[k]) }
                gram[s * taskCount + t] += dot
                if t != s { gram[t * taskCount + s] += dot }
            }
        }
    }

    @Test func pairsSummedTogetherGiveEachPairsOwnBits() {
        var rng = SplitMix64(seed: 11)
        // Up to 8 tasks: 36 pairs, so groups of eight with a short last group, and one pair alone.
        for taskCount in 1...8 {
            for length in [0, 1, 7, 1_000] {
                for trial in 0..<3 {
                    // Values of very different sizes, so that the order of the additions shows in the bits.
                    let z: [[Float]?] = (0..<taskCount).map { t in
                        if taskCount > 1 && (t + trial) % 3 == 0 { return nil }
                        return (0..<length).map { _ in rng.nextFloat(in: -1...1) * Float(1 << Int(rng.next() % 20)) }
                    }
                    let start = (0..<(taskCount * taskCount)).map { _ in Double(rng.nextFloat(in: -1...1)) }
                    var expected = start, measured = start
                    pairAtATime(z, to: &expected)
                    TaskGram.add(z, to: &measured)
                    #expect(measured.map(\.bitPattern) == expected.map(\.bitPattern),
                            "\(taskCount) tasks, length \(length), trial \(trial)")
                }
            }
        }
    }

    @Test func noTaskWithAGradientLeavesTheMatrixAlone() {
        var gram: [Double] = [1, 2, 3, 4]
        TaskGram.add([nil, nil], to: &gram)
        #expect(gram == [1, 2, 3, 4])
    }
}
