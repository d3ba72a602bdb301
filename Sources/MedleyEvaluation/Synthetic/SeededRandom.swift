import Foundation
import MedleyModel
import MedleySystem

/// The model's SplitMix64 generator with uniform and Gaussian draws of its own, so that a seed
/// gives the same data set on every platform and Swift version (the standard library's
/// `random(in:using:)` does not promise how it consumes the generator).
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    mutating func next() -> UInt64 {
        generator.next()
    }

    /// Uniform in [0, 1), 53 bits.
    mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform in `range` (the modulo bias is below 2^-40 for the small ranges used here).
    mutating func integer(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Double {
        let u1 = max(uniform(), 0x1p-53)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// An index drawn with probability proportional to `weights` (non-negative, not all zero).
    mutating func index(weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var threshold = uniform() * total
        for (i, w) in weights.enumerated() {
            threshold -= w
            if threshold < 0 { return i }
        }
        return weights.lastIndex { $0 > 0 } ?? 0
    }

    /// A unit vector with a uniformly random direction.
    mutating func unitVector(dimension: Int) -> [Float] {
        normalized((0..<dimension).map { _ in Float(gaussian()) })
    }
}

/// `v` scaled to length 1 (unchanged when it is zero).
func normalized(_ v: [Float]) -> [Float] {
    let length = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return length > 0 ? v.map { $0 / length } : v
}

/// The dot product of two vectors of equal length.
func dot(_ a: [Float], _ b: [Float]) -> Float {
    var sum: Float = 0
    for i in a.indices { sum += a[i] * b[i] }
    return sum
}
