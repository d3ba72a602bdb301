import ArgumentParser
import MedleyModel

/// The seeded model the bench commands measure when no model file is given: `--items` split
/// evenly over news, video and music, embedding dimension `--dimension`, one hidden layer of
/// twice that width, weights from a fixed seed (the same model on every machine).
struct SeededModelOptions: ParsableArguments {
    @Option(help: "Items of the seeded model (split over news, video and music).") var items: Int = 30_000
    @Option(help: "Embedding dimension of the seeded model.") var dimension: Int = 64

    func validate() throws {
        guard items >= 3, dimension > 0 else { throw ValidationError("--items must be at least 3 and --dimension positive") }
    }

    func model(itemPrecision: ItemPrecisionChoice = .automatic, index: ItemIndexKind = .exact,
               sessionEncoder: SessionEncoderShape? = nil) throws -> MultitaskModel {
        let domains = ["news", "video", "music"]
        let ids = (0..<items).map { "\(domains[$0 % 3])-\($0 / 3)" }
        let domainOfItem = (0..<items).map { $0 % 3 }
        let order = ids.indices.sorted { (domainOfItem[$0], $0) < (domainOfItem[$1], $1) }
        let catalog = try ItemCatalog(ids: order.map { ids[$0] }, domainOfItem: order.map { domainOfItem[$0] }, domainCount: 3)
        let configuration = ModelConfiguration(domains: domains, embeddingDimension: dimension, hiddenDimensions: [2 * dimension],
                                               sessionEncoder: sessionEncoder)
        let contents = try ModelFileContents.initialized(configuration: configuration, catalog: catalog, users: UserVocabulary(ids: []), seed: 1)
        return try MultitaskModel(contents, itemPrecision: itemPrecision.precision(for: contents), index: index)
    }
}
