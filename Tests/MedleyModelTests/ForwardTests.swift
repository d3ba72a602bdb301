import Foundation
import Testing
@testable import MedleyModel

/// Forward values on a model small enough to compute by hand.
@Suite struct ForwardTests {
    /// Domains a (a1, a2) and b (b1); d = 2, one last-item slot, one context feature, one
    /// encoder layer of width 2, heads without hidden layers.
    static func handModel() throws -> MultitaskModel {
        let configuration = ModelConfiguration(
            modelVersion: 1, domains: ["a", "b"], embeddingDimension: 2, contextDimension: 1, lastItemSlots: 1,
            hiddenDimensions: [2], towerHiddenDimensions: [], architecture: .mlp, recencyHalfLifeSeconds: 1800)
        let catalog = try ItemCatalog(ids: ["a1", "a2", "b1"], domainOfItem: [0, 0, 1], domainCount: 2)
        let users = try UserVocabulary(ids: ["u"])
        var p = ModelParameters(zerosFor: ParameterLayout(configuration: configuration, itemCount: 3, userCount: 1))
        p["item.embedding"] = Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
        p["item.bias"] = Tensor(shape: [3], scalars: [0.5, 0, 0])
        p["user.embedding"] = Tensor(shape: [1, 2], scalars: [2, -1])
        // x = [user(2); session(2); slot(2); context(1)]
        p["encoder.layers.0.weight"] = Tensor(shape: [2, 7], scalars: [1, 0, 0, 0, 0, 0, 0,
                                                                        0, 0, 1, 1, 0, 0, 4])
        p["encoder.layers.0.bias"] = Tensor(shape: [2], scalars: [0, -1])
        p["heads.domain.a.layers.0.weight"] = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1])
        p["heads.domain.b.layers.0.weight"] = Tensor(shape: [2, 2], scalars: [0, 1, 1, 0])
        p["heads.session.layers.0.weight"] = Tensor(shape: [2, 2], scalars: [-1, 0, 0, -1])
        p["heads.next_domain.layers.0.weight"] = Tensor(shape: [2, 2], scalars: [1, 0, 0, 0])
        p["heads.next_domain.layers.0.bias"] = Tensor(shape: [2], scalars: [0, 1])
        return try MultitaskModel(ModelFileContents(configuration: configuration, catalog: catalog, users: users, parameters: p))
    }

    static let handInput = ModelInput(
        userID: "u",
        events: [
            // Given out of order: the encoder orders by timestamp.
            SessionEvent(item: ItemReference(domain: "b", id: "b1"), type: .like, timestampMilliseconds: 1_800_000),
            SessionEvent(item: ItemReference(domain: "a", id: "a1"), type: .view, timestampMilliseconds: 0),
        ],
        context: [0.25])

    @Test func handComputedForwardPass() throws {
        let model = try Self.handModel()
        let input = try model.encode(Self.handInput, excludeSessionItems: false)
        // view 1 × 0.5 (one half-life old), like 3 × 1; normalised by 3.5.
        #expect(input.sessionRows == [0, 2])
        #expect(allClose(input.sessionWeights, [1.0 / 7, 6.0 / 7]))
        #expect(input.lastItemRows == [2])
        let pass = model.forward(input)
        // session = 1/7 (1,0) + 6/7 (1,1) = (1, 6/7); x = [2, -1, 1, 6/7, 1, 1, 0.25]
        #expect(allClose(pass.x, [2, -1, 1, 6.0 / 7, 1, 1, 0.25]))
        // h = relu([2, 1 + 6/7 + 1 − 1]) = (2, 13/7)
        #expect(allClose(pass.representations[0], [2, 13.0 / 7]))
        #expect(allClose(pass.domainQuery(0), [2, 13.0 / 7]))
        #expect(allClose(pass.domainQuery(1), [13.0 / 7, 2]))
        #expect(allClose(pass.sessionQuery, [-2, -13.0 / 7]))
        #expect(allClose(pass.nextDomainLogits, [2, 1]))
        let e = Float(M_E)
        #expect(allClose(pass.nextDomainProbabilities, [e / (e + 1), 1 / (e + 1)]))

        let result = model.recommend([input], options: RecommendationOptions(perDomain: 5, session: 5, blended: 5))[0]
        #expect(result.perDomain[0].map(\.item.id) == ["a1", "a2"])
        #expect(allClose(result.perDomain[0].map(\.score), [2.5, 13.0 / 7]))
        #expect(result.perDomain[1].map(\.item.id) == ["b1"])
        #expect(allClose(result.perDomain[1].map(\.score), [27.0 / 7]))
        #expect(result.session.map(\.item.id) == ["a1", "a2", "b1"])
        #expect(allClose(result.session.map(\.score), [-1.5, -13.0 / 7, -27.0 / 7]))
        // Priorities: a1 0.73, a2 0.37, b1 0.27.
        #expect(result.blended.map(\.item.id) == ["a1", "a2", "b1"])
    }

    @Test func sessionItemsAreExcludedByDefault() throws {
        let model = try Self.handModel()
        let result = model.recommend([try model.encode(Self.handInput)])[0]
        #expect(result.perDomain[0].map(\.item.id) == ["a2"])
        #expect(result.perDomain[1].isEmpty)
        #expect(result.session.map(\.item.id) == ["a2"])
    }

    @Test func unknownUserFoldsInHistoryOrGetsZeros() throws {
        let model = try Self.handModel()
        var input = ModelInput(userID: "stranger", history: [ItemReference(domain: "a", id: "a2"), ItemReference(domain: "b", id: "b1"),
                                                            ItemReference(domain: "b", id: "nope")], context: [0])
        var pass = model.forward(try model.encode(input))
        #expect(allClose(Array(pass.x[0..<2]), [0.5, 1]))
        input.history = []
        pass = model.forward(try model.encode(input))
        #expect(allClose(Array(pass.x[0..<2]), [0, 0]))
    }

    @Test func encoderOrdersSlotsIgnoresUnknownsAndValidatesContext() throws {
        let contents = try Fixtures.randomContents()
        let encoder = InputEncoder(configuration: contents.configuration, catalog: contents.catalog, users: contents.users)
        let encoded = try encoder.encode(Fixtures.sessionInput)
        #expect(encoded.userRow == 0)
        #expect(encoded.sessionRows == [1, 7, 3])
        #expect(encoded.ignoredEventCount == 1)
        #expect(encoded.lastItemRows == [3, 7])  // newest first: v1, then m3
        #expect(isClose(encoded.sessionWeights.map(abs).reduce(0, +), 1))
        #expect(encoded.sessionWeights[2] < 0)  // a skip pushes away
        #expect(encoded.excludedRows == [1, 7, 3])
        var bad = Fixtures.sessionInput
        bad.context = [1]
        #expect(throws: ModelInputError.contextDimension(expected: 2, actual: 1)) { try encoder.encode(bad) }
        bad.context = [1, .nan]
        #expect(throws: ModelInputError.nonFiniteContext(index: 1)) { try encoder.encode(bad) }
    }

    @Test func batchedRecommendationsEqualOneByOne() throws {
        for architecture in [ModelConfiguration.Architecture.mlp, .mmoe(experts: 2)] {
            let model = try MultitaskModel(try Fixtures.randomContents(architecture: architecture))
            let inputs = [try model.encode(Fixtures.sessionInput), try model.encode(Fixtures.anonymousInput)]
            let options = RecommendationOptions(perDomain: 3, session: 4, blended: 6)
            let batch = model.recommend(inputs, options: options)
            for (b, input) in inputs.enumerated() {
                let single = model.recommend([input], options: options)[0]
                #expect(single.perDomain.map { $0.map(\.row) } == batch[b].perDomain.map { $0.map(\.row) })
                #expect(single.session.map(\.row) == batch[b].session.map(\.row))
                #expect(single.blended.count == 6)
                #expect(isClose(single.nextDomainProbabilities.reduce(0, +), 1))
            }
        }
    }

    @Test func blendingFollowsProbabilities() {
        func list(_ domain: String, _ n: Int) -> [Recommendation] {
            (0..<n).map { Recommendation(item: ItemReference(domain: domain, id: "\(domain)\($0)"), row: 0, score: 0) }
        }
        let blended = Recommendations.blend(lists: [list("x", 5), list("y", 5), list("z", 1)], probabilities: [0.6, 0.3, 0.1], count: 6)
        // x 0.6, x 0.3 (tie with y 0.3: lower domain first), y 0.3, x 0.2, x 0.15, y 0.15
        #expect(blended.map(\.item.id) == ["x0", "x1", "y0", "x2", "x3", "y1"])
    }

    @Test func contextFeaturesAreCircular() {
        let midnight = ContextFeatures.encode(timestampMilliseconds: 0)
        #expect(allClose(midnight, [0, 1, 0, 1]))
        let sixAM = ContextFeatures.encode(timestampMilliseconds: 6 * 3_600_000)
        #expect(allClose(sixAM, [1, 0, sinf(2 * .pi * 0.25 / 7), cosf(2 * .pi * 0.25 / 7)], absolute: 1e-6))
    }
}
