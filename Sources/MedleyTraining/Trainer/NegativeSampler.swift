import Foundation
import MedleyModel

/// Draws item rows from a block of the item table with probability proportional to
/// (count + 1)^exponent, in constant time per draw (Walker's alias method), and knows each
/// row's log-probability for the log-Q correction of sampled softmax.
struct NegativeSampler: Sendable {
    /// The rows drawn from.
    let rows: Range<Int>
    private let probability: [Float]
    private let alias: [Int32]
    /// log Q(row) for each row of the block.
    private let logProbabilities: [Float]

    init(rows: Range<Int>, counts: [Int], exponent: Double) {
        precondition(!rows.isEmpty, "cannot sample from an empty block")
        self.rows = rows
        let weights = rows.map { pow(Double(counts[$0] + 1), exponent) }
        let total = weights.reduce(0, +)
        let n = rows.count
        logProbabilities = weights.map { Float(log($0 / total)) }
        // Vose's construction: scaled probabilities split into those below and above 1.
        var scaled = weights.map { $0 / total * Double(n) }
        var probability = [Float](repeating: 1, count: n)
        var alias = [Int32](repeating: 0, count: n)
        var small: [Int] = [], large: [Int] = []
        for (i, p) in scaled.enumerated() {
            if p < 1 { small.append(i) } else { large.append(i) }
        }
        while let s = small.popLast(), let l = large.popLast() {
            probability[s] = Float(scaled[s])
            alias[s] = Int32(l)
            scaled[l] = scaled[l] + scaled[s] - 1
            if scaled[l] < 1 { small.append(l) } else { large.append(l) }
        }
        // Whatever is left is 1 up to rounding.
        for i in small + large { probability[i] = 1 }
        self.probability = probability
        self.alias = alias
    }

    /// log Q of a row of the block.
    func logProbability(ofRow row: Int) -> Float { logProbabilities[row - rows.lowerBound] }

    /// Draws `count` rows and their log Q.
    func sample<G: RandomNumberGenerator>(_ count: Int, using rng: inout G) -> (rows: [Int], logProbabilities: [Float]) {
        var drawn = [Int](repeating: 0, count: count)
        var logQ = [Float](repeating: 0, count: count)
        let n = UInt64(probability.count)
        for k in 0..<count {
            let bits = rng.next()
            let column = Int(bits % n)
            // The top 24 bits decide between the column and its alias (independent enough of
            // the low bits used for the column for this purpose).
            let u = Float(bits >> 40) / Float(1 << 24)
            let local = u < probability[column] ? column : Int(alias[column])
            drawn[k] = rows.lowerBound + local
            logQ[k] = logProbabilities[local]
        }
        return (drawn, logQ)
    }
}
