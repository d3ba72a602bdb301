import Testing

@testable import MedleyModel

@Suite("Servability: what verification promises about every input")
struct ModelServabilityTests {
    /// The tiny fixture model with the service's context width.
    private func servable(_ architecture: ModelConfiguration.Architecture = .mlp,
                          sessionEncoder: SessionEncoderShape? = nil) throws -> ModelFileContents {
        let fixture = try Fixtures.randomContents(architecture: architecture, sessionEncoder: sessionEncoder)
        var configuration = fixture.configuration
        configuration.contextDimension = ContextFeatures.dimension
        return try ModelFileContents.initialized(configuration: configuration, catalog: fixture.catalog, users: fixture.users, seed: 3)
    }

    @Test func trainedSizedWeightsPass() throws {
        try ModelServability.check(MultitaskModel(servable()))
        try ModelServability.check(MultitaskModel(servable(.mmoe(experts: 2))))
        try ModelServability.check(MultitaskModel(servable(.ple(sharedExperts: 2, taskExperts: 1, levels: 2))))
        try ModelServability.check(MultitaskModel(servable(sessionEncoder: SessionEncoderShape(length: 4, blocks: 2, heads: 2))))
        try ModelServability.check(MultitaskModel(servable(sessionEncoder: SessionEncoderShape(length: 4, blocks: 2, heads: 2,
                                                                                                   sessionQuery: .towerPlusAttention))))
        try ModelServability.check(MultitaskModel(servable(sessionEncoder: SessionEncoderShape(kind: .gru, length: 4,
                                                                                                   sessionQuery: .towerPlusAttention))))
    }

    /// A GRU's state stays in (−1, 1) whatever its weights, but a gate's pre-activation can
    /// overflow: in a projection, or only in the sum of two that are each within bounds.
    @Test(arguments: [["session_encoder.gru.input.bias": Float(3e38)], ["session_encoder.gru.hidden.weight": 3e38],
                      ["session_encoder.gru.input.bias": 1e38, "session_encoder.gru.hidden.bias": 1e38]])
    func finiteGRUValuesThatOverflowAreRefused(values: [String: Float]) throws {
        var contents = try servable(sessionEncoder: SessionEncoderShape(kind: .gru, length: 4))
        for (tensor, value) in values { contents.parameters.tensors[tensor]!.scalars[0] = value }
        let model = try MultitaskModel(contents)
        let problem = #expect(throws: ModelServabilityProblem.self) { try ModelServability.check(model) }
        guard case .outputMayOverflow(let what, _) = problem else { Issue.record("\(String(describing: problem))"); return }
        #expect(what.hasPrefix(values.count == 2 ? "session_encoder.gru gate pre-activations" : "session_encoder.gru."), "\(what)")
    }

    @Test(arguments: ["session_encoder.position.embedding", "session_encoder.blocks.1.feed_forward.layers.1.bias",
                      "session_encoder.final_norm.scale", "encoder.levels.1.shared.0.layers.1.bias"])
    func finiteValuesThatOverflowInTheNewerEncodersAreRefused(tensor: String) throws {
        var contents = try servable(tensor.hasPrefix("encoder.levels") ? .ple(sharedExperts: 2, taskExperts: 1, levels: 2) : .mlp,
                                    sessionEncoder: tensor.hasPrefix("session_encoder") ? SessionEncoderShape(length: 4, blocks: 2, heads: 2) : nil)
        contents.parameters.tensors[tensor]!.scalars[0] = 3e38
        let model = try MultitaskModel(contents)
        #expect(throws: ModelServabilityProblem.self) { try ModelServability.check(model) }
    }

    @Test func anotherContextWidthIsRefusedWithTheReason() throws {
        let model = try MultitaskModel(Fixtures.randomContents())
        #expect(throws: ModelServabilityProblem.contextDimension(model: 2, service: 4)) { try ModelServability.check(model) }
        #expect(try ModelFileInspector.render(bytes: ModelFile.encode(model.contents)).contains("servable: NO: the model's context_dim is 2"))
    }

    @Test(arguments: ["encoder.layers.0.bias", "heads.session.layers.0.bias", "item.bias", "user.embedding", "encoder.experts.1.layers.1.bias"])
    func finiteValuesThatOverflowAreRefused(tensor: String) throws {
        var contents = try servable(tensor.contains("experts") ? .mmoe(experts: 2) : .mlp)
        let d = contents.configuration.embeddingDimension
        // One value (one user's row, for the user table) is enough.
        let index = tensor == "user.embedding" ? d + 1 : 0
        contents.parameters.tensors[tensor]!.scalars[index] = 3e38
        let model = try MultitaskModel(contents)
        #expect(throws: ModelServabilityProblem.self) { try ModelServability.check(model) }
    }

    /// A rules weight near the float maximum is finite, so the file is valid, but adding it to
    /// a session score overflows: the check counts it.
    @Test func aRulesWeightThatOverflowsIsRefused() throws {
        var contents = try servable()
        contents.sequentialRules = fixtureRules(weight: 1)
        try ModelServability.check(MultitaskModel(contents))
        contents.sequentialRules = fixtureRules(weight: 3e38)
        let model = try MultitaskModel(contents)
        #expect(throws: ModelServabilityProblem.self) { try ModelServability.check(model) }
        // From three items the rules add up to weight × (1 + 1/2 + 1/3): a weight that one item's
        // rules cannot overflow with can overflow then.
        contents.sequentialRules = fixtureRules(weight: 1.2e38)
        try ModelServability.check(MultitaskModel(contents))
        contents.sequentialRules!.depth = 3
        let deeper = try MultitaskModel(contents)
        #expect(throws: ModelServabilityProblem.self) { try ModelServability.check(deeper) }
        // The repeat bias moves a held item's score by its size, either way.
        contents.sequentialRules!.depth = 1
        for bias: Float in [-1.2e38, 1.2e38] {
            contents.sequentialRules!.repeatBias = bias
            let biased = try MultitaskModel(contents)
            #expect(throws: ModelServabilityProblem.self) { try ModelServability.check(biased) }
        }
    }
}
