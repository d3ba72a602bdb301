import ArgumentParser
import Foundation
import MedleyModel

/// `medley bench write-model`: writes the seeded model of `bench model` to a file, so that
/// `medley serve` and another server (Benchmarks/python_peer.py) can load the same weights.
struct BenchWriteModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-model",
        abstract: "Write the seeded benchmark model (--items, --dimension) to a model file."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var seeded: SeededModelOptions
    @Option(help: "The model file to write.") var out: String

    func run() throws {
        global.bootstrapLogging()
        let model = try seeded.model()
        try model.write(to: URL(fileURLWithPath: out))
        print("wrote \(out): \(model.catalog.count) items, d = \(model.configuration.embeddingDimension)")
    }
}
