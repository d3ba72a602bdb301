import MedleyModel
import Synchronization
import Testing
@testable import MedleyTraining
@testable import MedleySystem

/// Element-wise passes split over threads: every element once, the same bits as one pass.
@Suite struct ParallelRangesTests {
    @Test(arguments: [1, 2, 3])
    func rangesCoverEveryElementOnceOnAlignedBoundaries(threads: Int) {
        for count in [0, 1, 7, 8, 9, 1_000, 40_001] {
            let collected = Mutex<[Range<Int>]>([])
            ParallelRanges.forEach(count, threads: threads) { range in collected.withLock { $0.append(range) } }
            let ranges = collected.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
            #expect(ranges.flatMap { Array($0) } == Array(0..<count), "count \(count), \(threads) threads")
            #expect(ranges.dropFirst().allSatisfy { $0.lowerBound % 8 == 0 }, "count \(count), \(threads) threads")
            #expect(ranges.count <= threads)
        }
    }

    @Test func shardsGradientsSummedOverThreadsGiveTheOnePassBits() {
        var rng = SplitMix64(seed: 5)
        // One tensor split over the threads, one small enough to stay on the caller, one with a tail.
        let shapes = ["big": [ParallelRanges.minimumElements + 13], "small": [3, 5], "odd": [1_001]]
        func random() -> ModelParameters {
            ModelParameters(tensors: shapes.mapValues { shape in
                Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat(in: -1...1) * Float(1 << Int(rng.next() % 12)) })
            })
        }
        let (first, second) = (random(), random())
        var onePass = first, split = first
        for name in shapes.keys {
            onePass[name] = Tensor(shape: first[name].shape, scalars: zip(first[name].scalars, second[name].scalars).map { $0 + $1 })
        }
        split.add(second, threads: 2)
        for name in shapes.keys {
            #expect(split[name].scalars.map(\.bitPattern) == onePass[name].scalars.map(\.bitPattern), "\(name)")
        }
    }
}
