import Foundation
import MedleyModel
import Testing
@testable import MedleyTraining
@testable import MedleySystem

/// AdamW as docs/training.md states it, element by element: the optimiser's eight-lane loop
/// gives the bits of the formula computed one element at a time, skips embedding rows and
/// dense tensors whose gradient is all zero, and decays only weights and embedding rows.
@Suite struct AdamOptimizerTests {
    /// A model whose tensors have lengths that are not multiples of eight (tails), and an item
    /// table with rows the batches leave out.
    /// `large`: tables and an encoder layer past ``ParallelRanges/minimumElements``, whose
    /// updates are split over two threads.
    private func model(large: Bool) throws -> ModelFileContents {
        let (itemCount, dimension, hidden) = large ? (420, 40, [140]) : (9, 5, [7])
        let configuration = ModelConfiguration(domains: ["news", "music"], embeddingDimension: dimension, hiddenDimensions: hidden)
        let catalog = try ItemCatalog(ids: (0..<itemCount).map { "i\($0)" }, domainOfItem: (0..<itemCount).map { $0 < 4 ? 0 : 1 },
                                      domainCount: 2)
        let users = large ? (0..<410).map { "u\($0)" } : ["u", "v", "w"]
        return try ModelFileContents.initialized(configuration: configuration, catalog: catalog,
                                                 users: UserVocabulary(ids: users), seed: 3)
    }

    @Test(arguments: [false, true])
    func everyElementMovesAsTheFormulaSays(large: Bool) throws {
        let contents = try model(large: large)
        var configuration = TrainingConfiguration(model: contents.configuration)
        configuration.weightDecay = 0.01
        configuration.threads = 2
        if large {
            let splitTensors = contents.parameters.tensors.values.filter { $0.scalars.count >= ParallelRanges.minimumElements }
            #expect(splitTensors.count >= 3, "the tables and an encoder layer are split")
        }
        var optimizer = AdamOptimizer(layout: contents.layout, configuration: configuration)
        var parameters = contents.parameters
        var expected = contents.parameters
        var m = ModelParameters(zerosLike: parameters), v = ModelParameters(zerosLike: parameters)
        var rng = SplitMix64(seed: 11)
        let (lr, b1, b2, eps) = (configuration.learningRate, configuration.adamBeta1, configuration.adamBeta2, configuration.adamEpsilon)
        let leftOutItemRows: Set = [2, 7]
        for step in 1...5 {
            var gradients = ModelParameters(zerosLike: parameters)
            for name in gradients.tensors.keys.sorted() {
                let tensor = gradients[name]
                let width = tensor.shape.count == 2 ? tensor.shape[1] : 1
                gradients[name] = Tensor(shape: tensor.shape, scalars: tensor.scalars.indices.map { k in
                    name == ParameterLayout.itemEmbedding && leftOutItemRows.contains(k / width) ? 0 : rng.nextFloat(in: -1...1)
                })
            }
            optimizer.update(&parameters, gradients: gradients)
            let c1 = 1 - powf(b1, Float(step)), c2 = 1 - powf(b2, Float(step))
            for name in expected.tensors.keys.sorted() {
                let g = gradients[name].scalars
                let isTable = name == ParameterLayout.itemEmbedding || name == ParameterLayout.userEmbedding
                let decay: Float = isTable || (name.hasSuffix(".weight") && name != ParameterLayout.itemBias) ? 1 - lr * 0.01 : 1
                var p = expected[name].scalars, mm = m[name].scalars, vv = v[name].scalars
                let width = isTable ? expected[name].shape[1] : (name == ParameterLayout.itemBias ? 1 : g.count)
                let rowTouched = stride(from: 0, to: g.count, by: width).map { start in g[start..<(start + width)].contains { $0 != 0 } }
                for k in g.indices where rowTouched[k / width] {
                    mm[k] = b1 * mm[k] + (1 - b1) * g[k]
                    vv[k] = b2 * vv[k] + (1 - b2) * g[k] * g[k]
                    p[k] = p[k] * decay - lr * (mm[k] / c1) / ((vv[k] / c2).squareRoot() + eps)
                }
                expected[name] = Tensor(shape: expected[name].shape, scalars: p)
                m[name] = Tensor(shape: m[name].shape, scalars: mm)
                v[name] = Tensor(shape: v[name].shape, scalars: vv)
            }
            for name in expected.tensors.keys.sorted() {
                #expect(parameters[name].scalars.map(\.bitPattern) == expected[name].scalars.map(\.bitPattern), "\(name), step \(step)")
            }
        }
        // The rows no batch touched are as initialised.
        let width = contents.configuration.embeddingDimension
        for row in leftOutItemRows {
            let slice = (row * width)..<((row + 1) * width)
            #expect(Array(parameters[ParameterLayout.itemEmbedding].scalars[slice]) == Array(contents.parameters[ParameterLayout.itemEmbedding].scalars[slice]))
        }
    }
}
