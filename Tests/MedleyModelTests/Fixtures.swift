import Foundation
import MedleyTestSupport
@testable import MedleyModel
@testable import MedleySystem

/// Small models and helpers shared by the tests.
enum Fixtures {
    /// A tiny model with random (seeded) values everywhere, biases included, so that gradient
    /// checks exercise every parameter.
    static func randomContents(architecture: ModelConfiguration.Architecture = .mlp, towerHidden: [Int] = [3],
                               sessionEncoder: SessionEncoderShape? = nil, seed: UInt64 = 7) throws -> ModelFileContents {
        let configuration = ModelConfiguration(
            modelVersion: 3, domains: ["news", "video", "music"], embeddingDimension: 4, contextDimension: 2,
            lastItemSlots: 2, hiddenDimensions: [6, 5], towerHiddenDimensions: towerHidden, architecture: architecture,
            sessionEncoder: sessionEncoder)
        let ids = ["n1", "n2", "n3", "v1", "v2", "m1", "m2", "m3", "m4"]
        let domains = [0, 0, 0, 1, 1, 2, 2, 2, 2]
        let catalog = try ItemCatalog(ids: ids, domainOfItem: domains, domainCount: 3)
        let users = try UserVocabulary(ids: ["alice", "bob"])
        let layout = ParameterLayout(configuration: configuration, itemCount: catalog.count, userCount: users.count)
        var parameters = ModelParameters.initialized(layout: layout, seed: seed)
        var rng = SplitMix64(seed: seed &+ 1)
        for name in parameters.tensors.keys.sorted() {
            let tensor = parameters[name]
            parameters[name] = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 + rng.nextFloat(in: -0.3...0.3) })
        }
        return ModelFileContents(configuration: configuration, catalog: catalog, users: users, parameters: parameters)
    }

    static let sessionInput = ModelInput(
        userID: "alice",
        events: [
            SessionEvent(item: ItemReference(domain: "news", id: "n2"), type: .click, timestampMilliseconds: 1_000_000),
            SessionEvent(item: ItemReference(domain: "music", id: "m3"), type: .play, timestampMilliseconds: 1_600_000, weight: 4),
            SessionEvent(item: ItemReference(domain: "video", id: "v1"), type: .skip, timestampMilliseconds: 1_900_000),
            SessionEvent(item: ItemReference(domain: "music", id: "unknown"), type: .like, timestampMilliseconds: 1_950_000),
        ],
        context: [0.5, -0.25])

    static let anonymousInput = ModelInput(
        userID: nil,
        events: [SessionEvent(item: ItemReference(domain: "music", id: "m1"), type: .complete, timestampMilliseconds: 5_000)],
        history: [ItemReference(domain: "news", id: "n1"), ItemReference(domain: "video", id: "v2")],
        context: [1, 0])

    /// Earlier items of a user, oldest first, one unknown to the model.
    static let userHistory = [ItemReference(domain: "video", id: "v2"), ItemReference(domain: "news", id: "gone"),
                              ItemReference(domain: "music", id: "m4"), ItemReference(domain: "news", id: "n3")]

    /// The repository root (for scripts/).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A new directory, removed when the tests exit.
    static func temporaryDirectory() throws -> URL {
        try TestDirectories.make(prefix: "medley-model-tests")
    }
}

func isClose(_ a: Float, _ b: Float, absolute: Float = 1e-5, relative: Float = 1e-4) -> Bool {
    abs(a - b) <= absolute + relative * max(abs(a), abs(b))
}

func allClose(_ a: [Float], _ b: [Float], absolute: Float = 1e-5, relative: Float = 1e-4) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { isClose($0, $1, absolute: absolute, relative: relative) }
}

/// Compares an analytic gradient with central finite differences of `loss`, at up to
/// `samplesPerTensor` coordinates of every tensor. Returns the mismatches, described.
func gradientMismatches(
    parameters: ModelParameters, gradients: ModelParameters, samplesPerTensor: Int = 8,
    epsilon: Float = 1e-3, tolerance: Float = 2e-2, loss: (ModelParameters) -> Float
) -> [String] {
    var mismatches: [String] = []
    var rng = SplitMix64(seed: 99)
    for name in parameters.tensors.keys.sorted() {
        let count = parameters[name].count
        guard count > 0 else { continue }
        let indices = count <= samplesPerTensor ? Array(0..<count) : (0..<samplesPerTensor).map { _ in Int(rng.next() % UInt64(count)) }
        for i in indices {
            var plus = parameters, minus = parameters
            plus.tensors[name]!.scalars[i] += epsilon
            minus.tensors[name]!.scalars[i] -= epsilon
            let numeric = (loss(plus) - loss(minus)) / (2 * epsilon)
            let analytic = gradients[name].scalars[i]
            if abs(numeric - analytic) > tolerance * max(1, abs(numeric), abs(analytic)) {
                mismatches.append("\(name)[\(i)]: analytic \(analytic), numeric \(numeric)")
            }
        }
    }
    return mismatches
}

extension Fixtures {
    /// A model with seeded weights over a catalogue of the given domain sizes (ids `<domain>-<n>`),
    /// large enough to span several scoring tiles.
    static func catalogueModel(itemsPerDomain: [Int], dimension: Int = 8, seed: UInt64 = 11) throws -> MultitaskModel {
        let domains = ["news", "video", "music"]
        precondition(itemsPerDomain.count == domains.count)
        var ids: [String] = [], domainOfItem: [Int] = []
        for (d, count) in itemsPerDomain.enumerated() {
            ids += (0..<count).map { "\(domains[d])-\($0)" }
            domainOfItem += Array(repeating: d, count: count)
        }
        let catalog = try ItemCatalog(ids: ids, domainOfItem: domainOfItem, domainCount: 3)
        let configuration = ModelConfiguration(domains: domains, embeddingDimension: dimension, hiddenDimensions: [2 * dimension])
        return try MultitaskModel(ModelFileContents.initialized(configuration: configuration, catalog: catalog,
                                                                users: UserVocabulary(ids: []), seed: seed))
    }

    /// Inputs with sessions of random items of `model`'s catalogue.
    static func randomInputs(_ count: Int, model: MultitaskModel, eventsEach: Int = 5, seed: UInt64 = 3) throws -> [EncodedInput] {
        var rng = SplitMix64(seed: seed)
        let catalog = model.catalog
        return try (0..<count).map { _ in
            let events = (0..<eventsEach).map { n -> SessionEvent in
                let row = Int(rng.next() % UInt64(catalog.count))
                return SessionEvent(item: ItemReference(domain: model.configuration.domains[catalog.domainOfItem[row]], id: catalog.ids[row]),
                                    type: .play, timestampMilliseconds: 1_000_000 + Int64(n) * 1000)
            }
            return try model.encode(ModelInput(userID: nil, events: events, context: ContextFeatures.encode(timestampMilliseconds: 1_000_000)))
        }
    }

    /// The exact top `k` of `rows` for `query` (float32 dot product plus bias, full sort).
    static func exactTopK(model: MultitaskModel, query: [Float], rows: Range<Int>, k: Int, excluding excluded: Set<Int>) -> [ScoredItem] {
        let d = model.configuration.embeddingDimension
        let embeddings = model.parameters[ParameterLayout.itemEmbedding].scalars
        let biases = model.parameters[ParameterLayout.itemBias].scalars
        let scores = rows.map { row in
            embeddings.withUnsafeBufferPointer { e in
                query.withUnsafeBufferPointer { q in ScoringKernels.dot(q.baseAddress!, e.baseAddress! + row * d, d) }
            } + biases[row]
        }
        return bruteForceTopK(scores: scores, firstIndex: rows.lowerBound, k: k, excluding: excluded)
    }
}

/// Whether a ranked list equals the exact one: the same rows in the same order, except that
/// items whose exact scores are equal within float rounding may swap places.
func matchesExactRanking(_ list: [Recommendation], _ exact: [ScoredItem], tolerance: Float = 1e-4) -> Bool {
    guard list.count == exact.count else { return false }
    for (got, want) in zip(list, exact) {
        guard abs(got.score - want.score) <= tolerance * max(1, abs(want.score)) else { return false }
        if got.row != want.index {
            // Only a near tie may reorder: the exact list must hold this row with about the same score.
            guard let other = exact.first(where: { $0.index == got.row }),
                  abs(other.score - want.score) <= tolerance * max(1, abs(want.score)) else { return false }
        }
    }
    return true
}
