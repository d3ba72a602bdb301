import Foundation
@testable import MedleyModel

/// Small models and helpers shared by the tests.
enum Fixtures {
    /// A tiny model with random (seeded) values everywhere, biases included, so that gradient
    /// checks exercise every parameter.
    static func randomContents(architecture: ModelConfiguration.Architecture = .mlp, towerHidden: [Int] = [3],
                               sessionAttention: SessionAttentionShape? = nil, seed: UInt64 = 7) throws -> ModelFileContents {
        let configuration = ModelConfiguration(
            modelVersion: 3, domains: ["news", "video", "music"], embeddingDimension: 4, contextDimension: 2,
            lastItemSlots: 2, hiddenDimensions: [6, 5], towerHiddenDimensions: towerHidden, architecture: architecture,
            sessionAttention: sessionAttention)
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
            SessionEvent(item: ItemReference(domain: "music", id: "m3"), type: .play, timestampMilliseconds: 1_600_000),
            SessionEvent(item: ItemReference(domain: "video", id: "v1"), type: .skip, timestampMilliseconds: 1_900_000),
            SessionEvent(item: ItemReference(domain: "music", id: "unknown"), type: .like, timestampMilliseconds: 1_950_000),
        ],
        context: [0.5, -0.25])

    static let anonymousInput = ModelInput(
        userID: nil,
        events: [SessionEvent(item: ItemReference(domain: "music", id: "m1"), type: .complete, timestampMilliseconds: 5_000)],
        history: [ItemReference(domain: "news", id: "n1"), ItemReference(domain: "video", id: "v2")],
        context: [1, 0])

    /// The repository root (for scripts/).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("medley-model-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
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
