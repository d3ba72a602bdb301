import ArgumentParser
import Foundation
import MedleyModel
import MedleyModelDistribution

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Write the detached signature (<file>.sig) of model files.",
        discussion: """
            A server started with --trainer-key loads a model file from its model directory \
            (--watch-model-dir or a control request) only when <file>.sig holds the trainer \
            key's signature of it. `medley train --key` writes it for the models it trains; this \
            signs files made elsewhere. Each file is checked to be a valid model first. See \
            docs/hot-reload.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("key"), help: "The secret key file (made by `medley keygen`).")
    var keyFile: String

    @Argument(help: "Model files (.safetensors).")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one model file") }
    }

    func run() throws {
        global.bootstrapLogging()
        let key: ModelSigningKey
        do {
            key = try ModelSigningKey(contentsOfFile: keyFile)
        } catch {
            throw ValidationError("\(error)")
        }
        for file in files {
            let bytes = try ModelFile.readBytes(URL(fileURLWithPath: file))
            let contents = try ModelFile.decode(bytes)
            try ModelSignatureFile.write(signing: bytes, version: contents.configuration.modelVersion, with: key, forModelAt: file)
            print("signed \(file) (version \(contents.configuration.modelVersion)): \(ModelSignatureFile.path(forModelAt: file))")
        }
    }
}
