import Testing
@testable import MedleyModel
@testable import MedleySystem

/// The batched training pass (one matrix product per layer over a batch's rows, forward and
/// backward) gives the per-example passes' outputs, the sum of their parameter gradients, their
/// representation gradients and their session encoder output gradients.
@Suite struct BatchedTrainingPassTests {
    /// Seeded values in [-1, 1]; every `zeroEvery`-th row zero (an example without that task's loss).
    private static func rows(_ count: Int, width: Int, seed: UInt64, zeroEvery: Int = 0) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).flatMap { b in
            (0..<width).map { _ in zeroEvery > 0 && b % zeroEvery == 0 ? 0 : rng.nextFloat(in: -1...1) }
        }
    }

    @Test(arguments: [1, 2, 9])
    func gradientsEqualThePerExamplePasses(batchSize: Int) throws {
        for attention in BatchedForwardTests.attentions {
            let model = try BatchedForwardTests.model(.mlp, attention: attention)
            let network = model.network, parameters = model.parameters
            let label = "\(attention?.summary ?? "no attention"), batch of \(batchSize)"
            #expect(network.trainsInBatches)
            let inputs = try BatchedForwardTests.inputs(batchSize, model: model)
            let d = model.configuration.embeddingDimension
            let domainCount = model.configuration.domains.count
            let taskCount = domainCount + 2
            var rng = SplitMix64(seed: 7)
            // Some examples without a session encoder output (an empty session).
            let attentionOutputs: [[Float]?] = inputs.indices.map { b in
                attention == nil || b % 3 == 1 ? nil : (0..<d).map { _ in rng.nextFloat(in: -1...1) }
            }
            // Task 1 (video) has no loss in the batch; domain 0's rows are zero for some examples.
            let outputGradients: [[Float]?] = (0..<taskCount).map { t in
                if t == 1 { return nil }
                let width = t == taskCount - 1 ? domainCount : d
                return Self.rows(batchSize, width: width, seed: UInt64(10 + t), zeroEvery: t == 0 ? 2 : 0)
            }

            let pass = network.forward(training: inputs, attentionOutputs: attentionOutputs, parameters: parameters)
            var batchedGradients = ModelParameters(zerosLike: parameters)
            let representationRows = network.backwardHeads(pass, outputGradients: outputGradients, parameters: parameters,
                                                           into: &batchedGradients)
            let attentionRows = network.backwardEncoder(pass, representationGradients: representationRows,
                                                        sessionQueryGradients: outputGradients[domainCount],
                                                        parameters: parameters, into: &batchedGradients)

            var expectedGradients = ModelParameters(zerosLike: parameters)
            for b in inputs.indices {
                let example = network.forward(inputs[b], parameters: parameters, attentionOutput: attentionOutputs[b])
                func row(_ t: Int) -> [Float]? {
                    outputGradients[t].map { g in Array(g[(b * g.count / batchSize)..<((b + 1) * g.count / batchSize)]) }
                }
                for t in 0..<domainCount {
                    #expect(allClose(Array(pass.domainQueries(t)[(b * d)..<((b + 1) * d)]), example.domainQuery(t)), "\(label)")
                }
                #expect(allClose(Array(pass.sessionQueries[(b * d)..<((b + 1) * d)]), example.sessionQuery), "\(label)")
                #expect(allClose(Array(pass.nextDomainLogits[(b * domainCount)..<((b + 1) * domainCount)]),
                                 example.nextDomainLogits), "\(label)")
                var g = Network.OutputGradients(domainCount: domainCount)
                g.domainQueries = (0..<domainCount).map(row)
                g.sessionQuery = row(domainCount)
                g.nextDomainLogits = row(domainCount + 1)
                let representations = network.backwardHeads(example, outputGradients: g, parameters: parameters,
                                                            into: &expectedGradients)
                for t in 0..<taskCount {
                    let width = model.configuration.representationDimension
                    #expect((representations[t] == nil) == (representationRows[t] == nil), "\(label), task \(t)")
                    if let expected = representations[t], let rows = representationRows[t] {
                        #expect(allClose(Array(rows[(b * width)..<((b + 1) * width)]), expected), "\(label), task \(t)")
                    }
                }
                let dAttention = network.backwardEncoder(example, representationGradients: representations,
                                                         sessionQueryGradient: g.sessionQuery, parameters: parameters,
                                                         into: &expectedGradients)
                #expect((dAttention == nil) == (attentionRows == nil), "\(label)")
                if let dAttention, let attentionRows {
                    #expect(allClose(attentionRows[b], dAttention), "\(label), example \(b)")
                }
            }
            for name in parameters.tensors.keys.sorted() {
                #expect(allClose(batchedGradients[name].scalars, expectedGradients[name].scalars, absolute: 1e-4, relative: 1e-4),
                        "\(label): \(name)")
            }
            // The gradients reached the encoder's first layer (they are not all zero on both sides).
            #expect(batchedGradients["encoder.layers.0.weight"].scalars.contains { $0 != 0 }, "\(label)")
        }
    }

    @Test func mixtureEncodersDoNotTrainInBatches() throws {
        #expect(!(try BatchedForwardTests.model(.mmoe, attention: nil)).network.trainsInBatches)
        #expect(!(try BatchedForwardTests.model(.ple, attention: nil)).network.trainsInBatches)
    }
}
