import Testing
@testable import MedleyModel
@testable import MedleySystem

/// The batched forward pass (one matrix product per layer over a batch's inputs) gives the
/// outputs and the ranked lists of the per-example pass, for every encoder form, with and
/// without a session encoder (attention or GRU), on batches whose sessions differ in length.
extension BatchedForward {
    /// The outputs of per-example passes, gathered in the batched layout.
    init(passes: [Network.ForwardPass], dimension: Int, domainCount: Int) {
        self.init(count: passes.count, dimension: dimension,
                  domainQueries: (0..<domainCount).map { t in passes.flatMap { $0.domainQuery(t) } },
                  sessionQueries: passes.flatMap(\.sessionQuery), nextDomainLogits: passes.flatMap(\.nextDomainLogits))
    }
}

@Suite struct BatchedForwardTests {
    enum Encoder: String, CaseIterable {
        case mlp, mmoe, ple
        var architecture: ModelConfiguration.Architecture {
            switch self {
            case .mlp: return .mlp
            case .mmoe: return .mmoe(experts: 3)
            case .ple: return .ple(sharedExperts: 2, taskExperts: 1, levels: 2)
            }
        }
    }

    /// A model with seeded random values everywhere (biases too) over 3 × 400 items, d = 8.
    static func model(_ encoder: Encoder, attention: SessionEncoderShape?) throws -> MultitaskModel {
        let domains = ["news", "video", "music"]
        let configuration = ModelConfiguration(domains: domains, embeddingDimension: 8, hiddenDimensions: [16, 12],
                                               towerHiddenDimensions: [10], architecture: encoder.architecture,
                                               sessionEncoder: attention)
        var ids: [String] = [], domainOfItem: [Int] = []
        for (d, domain) in domains.enumerated() {
            ids += (0..<400).map { "\(domain)-\($0)" }
            domainOfItem += Array(repeating: d, count: 400)
        }
        let catalog = try ItemCatalog(ids: ids, domainOfItem: domainOfItem, domainCount: domains.count)
        let users = try UserVocabulary(ids: ["alice", "bob"])
        var contents = try ModelFileContents.initialized(configuration: configuration, catalog: catalog, users: users, seed: 21)
        var rng = SplitMix64(seed: 22)
        for name in contents.parameters.tensors.keys.sorted() {
            let tensor = contents.parameters[name]
            contents.parameters[name] = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 + rng.nextFloat(in: -0.3...0.3) })
        }
        return try MultitaskModel(contents)
    }

    /// `count` inputs: input b has a session of b mod 9 events (so some are empty), a known
    /// user, an unknown one with a history, or none.
    static func inputs(_ count: Int, model: MultitaskModel) throws -> [EncodedInput] {
        var rng = SplitMix64(seed: UInt64(count) &+ 5)
        let catalog = model.catalog
        func item() -> ItemReference {
            let row = Int(rng.next() % UInt64(catalog.count))
            return ItemReference(domain: model.configuration.domains[catalog.domainOfItem[row]], id: catalog.ids[row])
        }
        return try (0..<count).map { b in
            let events = (0..<(b % 9)).map { n in
                SessionEvent(item: item(), type: [.view, .play, .like, .skip][n % 4], timestampMilliseconds: 1_000_000 + Int64(n) * 60_000)
            }
            let history = (0..<(b % 4)).map { _ in item() }
            let user: String? = [nil, "alice", "stranger"][b % 3]
            return try model.encode(ModelInput(userID: user, events: events, history: history,
                                               context: ContextFeatures.encode(timestampMilliseconds: 1_000_000 + Int64(b) * 3_600_000),
                                               excluded: history))
        }
    }

    static let attentions: [SessionEncoderShape?] = [
        nil,
        SessionEncoderShape(length: 6, blocks: 2, heads: 2, input: .session),
        SessionEncoderShape(length: 5, blocks: 1, heads: 1, input: .history, sessionQuery: .towerPlusAttention),
        SessionEncoderShape(kind: .gru, length: 5, input: .history, sessionQuery: .towerPlusAttention),
    ]

    @Test(arguments: Encoder.allCases, [1, 2, 33])
    func batchedOutputsAndListsEqualThePerExamplePass(encoder: Encoder, batchSize: Int) throws {
        for attention in Self.attentions {
            let model = try Self.model(encoder, attention: attention)
            let inputs = try Self.inputs(batchSize, model: model)
            let batched = model.forward(batch: inputs)
            let passes = inputs.map(model.forward)
            let domainCount = model.configuration.domains.count
            #expect(batched.count == batchSize)
            for (b, pass) in passes.enumerated() {
                let label = "\(encoder) \(attention?.summary ?? "no attention") input \(b) of \(batchSize)"
                for t in 0..<domainCount {
                    #expect(allClose(batched.domainQuery(t, b), pass.domainQuery(t), absolute: 1e-5, relative: 0), "\(label), domain \(t)")
                }
                #expect(allClose(batched.sessionQuery(b), pass.sessionQuery, absolute: 1e-5, relative: 0), "\(label), session")
                #expect(allClose(batched.nextDomainProbabilities(b), pass.nextDomainProbabilities, absolute: 1e-5, relative: 0), "\(label)")
            }
            let options = RecommendationOptions(perDomain: 20, session: 30, blended: 20)
            let perExample = model.recommend(inputs, forward: BatchedForward(passes: passes, dimension: model.configuration.embeddingDimension,
                                                                             domainCount: domainCount), options: options)
            let results = model.recommend(inputs, options: options)
            for (b, (result, expected)) in zip(results, perExample).enumerated() {
                let label = "\(encoder) \(attention?.summary ?? "no attention") input \(b) of \(batchSize)"
                #expect(result.perDomain.map { $0.map(\.row) } == expected.perDomain.map { $0.map(\.row) }, "\(label)")
                #expect(result.session.map(\.row) == expected.session.map(\.row), "\(label)")
                #expect(result.blended.map(\.row) == expected.blended.map(\.row), "\(label)")
                #expect(allClose(result.nextDomainProbabilities, expected.nextDomainProbabilities, absolute: 1e-5, relative: 0), "\(label)")
            }
        }
    }

    @Test func theBatchedPassIsTheSameWhateverTheBatchAroundAnInput() throws {
        // An input's outputs do not depend on which other inputs share its batch.
        let model = try Self.model(.mmoe, attention: Self.attentions[1])
        let inputs = try Self.inputs(33, model: model)
        let whole = model.forward(batch: inputs)
        for b in [0, 7, 32] {
            let alone = model.forward(batch: [inputs[b]])
            #expect(allClose(alone.sessionQuery(0), whole.sessionQuery(b), absolute: 1e-5, relative: 0))
            #expect(allClose(alone.domainQuery(2, 0), whole.domainQuery(2, b), absolute: 1e-5, relative: 0))
        }
    }
}
