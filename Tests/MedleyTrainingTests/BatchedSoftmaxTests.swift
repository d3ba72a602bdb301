import Foundation
import MedleyModel
import Testing
@testable import MedleyTraining
@testable import MedleySystem

@Suite struct BatchedSoftmaxTests {
    /// The matrix-product softmax gives the per-example loss of ``Losses`` and the same gradients.
    @Test func matchesThePerExampleLoss() throws {
        let configuration = ModelConfiguration(domains: ["news", "music"], embeddingDimension: 5, hiddenDimensions: [4])
        let catalog = try ItemCatalog(ids: (0..<9).map { "i\($0)" }, domainOfItem: [0, 0, 0, 0, 1, 1, 1, 1, 1], domainCount: 2)
        let contents = try ModelFileContents.initialized(configuration: configuration, catalog: catalog,
                                                         users: UserVocabulary(ids: ["u"]), seed: 3)
        var parameters = contents.parameters
        var rng = SplitMix64(seed: 5)
        parameters[ParameterLayout.itemBias] = Tensor(shape: [9], scalars: (0..<9).map { _ in rng.nextFloat(in: -1...1) })
        let queries: [Float] = (0..<15).map { _ in rng.nextFloat(in: -1...1) }
        let targets = [4, 8, 6], weights: [Float] = [0.5, 1, 2]
        let rows = 4..<9

        var expected = ModelParameters(zerosLike: parameters)
        var expectedLosses: [Float] = [], expectedDQ: [Float] = []
        for i in 0..<3 {
            let r = Losses.softmaxCrossEntropy(query: Array(queries[(i * 5)..<((i + 1) * 5)]), target: targets[i], rows: rows,
                                               parameters: parameters, weight: weights[i], gradients: &expected)
            expectedLosses.append(r.loss)
            expectedDQ += r.inputGradient
        }
        var softmax = BatchedSoftmax()
        var actual = ModelParameters(zerosLike: parameters)
        let (losses, dQ) = softmax.crossEntropy(queries: queries, targets: targets, weights: weights, rows: rows,
                                                parameters: parameters, gradients: &actual)
        #expect(close(losses, expectedLosses))
        #expect(close(dQ, expectedDQ))
        #expect(close(actual[ParameterLayout.itemEmbedding].scalars, expected[ParameterLayout.itemEmbedding].scalars))
        #expect(close(actual[ParameterLayout.itemBias].scalars, expected[ParameterLayout.itemBias].scalars))

        let evaluated = softmax.lossesAndRanks(queries: queries, targets: targets, rows: rows, parameters: parameters)
        #expect(close(evaluated.map(\.loss), expectedLosses))
        for (i, (_, rank)) in evaluated.enumerated() {
            let q = Array(queries[(i * 5)..<((i + 1) * 5)])
            let scores = rows.map { row in
                zip(q, parameters[ParameterLayout.itemEmbedding].row(row)).reduce(0) { $0 + $1.0 * $1.1 } + parameters[ParameterLayout.itemBias].scalars[row]
            }
            let target = scores[targets[i] - rows.lowerBound]
            #expect(rank == Double(scores.filter { $0 > target + 1e-5 }.count))
        }
    }

    /// The alias sampler draws rows in proportion to (count + 1)^exponent and reports log Q.
    @Test func negativeSamplerFollowsItsDistribution() {
        let counts = [0, 9, 3, 0, 99]
        let sampler = NegativeSampler(rows: 1..<5, counts: counts, exponent: 1)
        var rng = SplitMix64(seed: 1)
        let (rows, logQ) = sampler.sample(100_000, using: &rng)
        let total = Float(10 + 4 + 1 + 100)
        for (row, weight) in [(1, Float(10)), (2, 4), (3, 1), (4, 100)] {
            let share = Float(rows.filter { $0 == row }.count) / 100_000
            #expect(abs(share - weight / total) < 0.01)
            #expect(abs(sampler.logProbability(ofRow: row) - logf(weight / total)) < 1e-5)
        }
        #expect(zip(rows, logQ).allSatisfy { sampler.logProbability(ofRow: $0) == $1 })
    }

    /// The eight-lane exponential agrees with the C library's to a few ulp over the range the
    /// softmax uses, and the row's maximum and total are those of the plain computation.
    @Test func vectorExponentialMatchesTheLibrary() {
        var x: Float = -90
        while x <= 0 {
            let lanes = SoftmaxRow.exp(SIMD8<Float>(repeating: x))
            let expected = expf(x)
            #expect(abs(lanes[0] - expected) <= 4 * expected.ulp + 1e-37, "exp(\(x)) = \(lanes[0]), expected \(expected)")
            x += 0.37
        }
        var row: [Float] = (0..<21).map { Float($0 % 7) * 1.3 - 4 }
        let plainMaximum = row.max()!
        let plainTotal = row.reduce(Float(0)) { $0 + expf($1 - plainMaximum) }
        let (maximum, total) = row.withUnsafeMutableBufferPointer { SoftmaxRow.exponentiate($0) }
        #expect(maximum == plainMaximum)
        #expect(abs(total - plainTotal) < 1e-5 * plainTotal)
    }

    /// The AVX2 kernels give the portable loops' bits: the maximum, every exponential and the
    /// total, for rows of every length modulo 8, values far below the maximum (under the −87
    /// floor), ties, infinities and NaNs. (Skipped on a CPU without AVX2.)
    @Test(arguments: [1, 7, 8, 9, 16, 23, 64, 1001, 3664])
    func vectorKernelsGiveThePortableLoopsBits(length: Int) throws {
        try #require(SoftmaxRow.hasVectorKernels, "this CPU has no AVX2")
        var rng = SplitMix64(seed: UInt64(length))
        for trial in 0..<20 {
            var row: [Float] = (0..<length).map { _ in Float(Int(rng.next() % 20_001) - 10_000) / 97 }
            if trial % 4 == 1 { row[Int(rng.next() % UInt64(length))] = 200 }  // most of the row under the floor
            if trial % 4 == 2 { for j in row.indices where j % 3 == 0 { row[j] = row[0] } }
            if trial == 3 { row[length / 2] = .nan }
            if trial == 7 { row[length - 1] = -.infinity }
            var portable = row, vector = row
            let expected = portable.withUnsafeMutableBufferPointer { SoftmaxRow.exponentiate($0, vector: false) }
            let got = vector.withUnsafeMutableBufferPointer { SoftmaxRow.exponentiate($0, vector: true) }
            #expect(got.maximum.bitPattern == expected.maximum.bitPattern, "length \(length), trial \(trial)")
            #expect(got.total.bitPattern == expected.total.bitPattern, "length \(length), trial \(trial)")
            #expect(vector.map(\.bitPattern) == portable.map(\.bitPattern), "length \(length), trial \(trial)")
        }
    }

    /// Adding the bias row: every element, the tail past the last eight included.
    @Test(arguments: [0, 5, 8, 19])
    func theBiasIsAddedToEveryLogit(length: Int) {
        var row: [Float] = (0..<length).map { Float($0) * 0.5 }
        let bias: [Float] = (0..<length).map { Float($0 * $0) - 3 }
        let expected = zip(row, bias).map { $0 + $1 }
        row.withUnsafeMutableBufferPointer { r in bias.withUnsafeBufferPointer { ElementwiseAdd.add($0, to: r) } }
        #expect(row == expected)
    }

    private func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 + 1e-4 * max(abs($0), abs($1)) }
    }
}
